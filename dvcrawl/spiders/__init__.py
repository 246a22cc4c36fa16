"""Spiders: one thin subclass of `PortalSpider` per registered site."""
