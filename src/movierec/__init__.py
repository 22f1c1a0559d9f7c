"""movierec: an end-to-end movie recommender on the Netflix Prize data, as a dbt project on DuckDB.

The package holds the Python that the dbt project and its users share: the sample
generator, the raw-file parsers and loader (`movierec.ingest`), and the warehouse
location. dbt models and the CLI call into it.
"""

__version__ = "0.1.0"
