"""Pure domain functions: configs, DataFrames and plain records in, the same out.

Schema mapping, features, modeling, training, evaluation, the promotion decision and the
Markdown a person reads. No file, database or network I/O, no server client: everything here
can be called in a test with a tiny inline DataFrame. Imports nothing above it.
"""
