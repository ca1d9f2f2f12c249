"""The results of a comparison: the schema, the fits, the table, writing and reading results.json and results.nc."""
