"""A test-only entry point: the "Sweeps" page alone (AppTest.from_file runs this)."""
import streamlit as st

from viz.sweeps.page import sweep_page

st.set_page_config(page_title="Sweeps", layout="wide")
sweep_page()
