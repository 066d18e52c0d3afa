"""Our PostgreSQL schema of campaigns: migrations, a seed of realistic data."""
