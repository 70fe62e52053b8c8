"""Admin for products, brands, categories and their generated content."""
