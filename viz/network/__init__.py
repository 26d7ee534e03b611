"""The optimizers on a real network (a small MLP) and its loss landscape.

Pure: ``scene`` (NetScene and its URL), ``compute`` (training, slices, the table and texts),
``figures``.  Streamlit: ``state``.
"""
