"""Data dictionaries (seed 001): any dataset's fields described with business names and descriptions."""
