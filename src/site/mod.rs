//! The static site: pages, search, feeds, sitemaps.
