import Config

# DATABASE_URL=postgres://user[:password]@host[:port]/dbname (Ecto parses it).
if url = System.get_env("DATABASE_URL") do
  config :badge_forge, BadgeForge.Repo, url: url
end

# BADGE_FORGE_LOG_LEVEL=debug|info|warning|error (logs always go to stderr)
if level = System.get_env("BADGE_FORGE_LOG_LEVEL") do
  config :logger, level: String.to_existing_atom(level)
end
