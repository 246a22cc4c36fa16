"""dvcrawl: clean, deduplicated articles about công tác dân vận from Vietnamese portals."""

__version__ = "0.1.0"

#: Where portal operators can read who we are and how to reach us; sent in the User-Agent.
PROJECT_URL = "https://github.com/dvcrawl/dvcrawl"
