"""Topic lists shipped with dvcrawl (TOML data, read by `dvcrawl.topic`)."""
