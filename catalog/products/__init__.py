"""Products: brands, categories, products and their multi-locale content (the `product_content` LLM task)."""
