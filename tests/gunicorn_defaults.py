"""An empty gunicorn settings file: servers started by tests, drills and benchmarks run with
gunicorn's defaults and their command line, never with a gunicorn.conf.py found where they start."""
