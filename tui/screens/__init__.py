"""The app's screens: each holds its state, handles its widgets' messages and calls the backend."""
