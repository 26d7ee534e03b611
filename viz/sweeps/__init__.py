"""Sweeps of the race page's scene: hyperparameter maps, basin maps, fair races.

Pure: ``scene`` (SweepScene and its ``sw_`` URL keys), ``compute`` (optimizers.sweep / tune from
named-tuple keys), ``figures`` (and the texts under them).  Streamlit: ``state``.
"""
