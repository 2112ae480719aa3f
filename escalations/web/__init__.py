"""Pages: views, forms, URL patterns, page panels."""
