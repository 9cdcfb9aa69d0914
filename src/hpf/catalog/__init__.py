"""The service catalogue (from spec/services.csv), channels and dated parameters."""
