import Config

# HARNESS_LOG_LEVEL=debug|info|warning|error (logs always go to stderr)
if level = System.get_env("HARNESS_LOG_LEVEL") do
  config :logger, level: String.to_existing_atom(level)
end
