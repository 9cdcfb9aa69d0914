"""Channel adapters: each translates its input into gateway calls and renders the result."""
