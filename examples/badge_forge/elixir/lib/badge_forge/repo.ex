defmodule BadgeForge.Repo do
  use Ecto.Repo, otp_app: :badge_forge, adapter: Ecto.Adapters.Postgres
end
