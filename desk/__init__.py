"""The desk web service (FastAPI, port 8000): the catalogue API, health, and the pages people use."""
