"""The reference for benchmarks/bench_page.py: a minimal Streamlit page (a button that updates
one line of text).  Whatever the app costs beyond this page is the app's own."""

import streamlit as st

st.session_state.setdefault("count", 0)
if st.button("Add one", key="add"):
    st.session_state["count"] += 1
st.markdown(f"count: {st.session_state['count']}")
