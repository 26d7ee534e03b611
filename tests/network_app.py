"""A test-only entry point: the "Real network" page alone (AppTest.from_file runs this)."""
import streamlit as st

from viz.network.page import network_page

st.set_page_config(page_title="Real network", layout="wide")
network_page()
