"""The Streamlit side: the only place st.cache_* meets data access, and reusable widgets."""
