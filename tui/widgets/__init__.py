"""Small widgets: they render and post messages; they never call the backend."""
