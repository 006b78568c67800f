-- 009: the audit trail records where a web request came from (issue 23): the client's address
-- as the app saw it (the connection's, or the proxy header named by MKTSALES_CLIENT_IP_HEADER).
-- NULL for the command line, the system, and local connections (Streamlit reports none for them).
ALTER TABLE audit_log ADD COLUMN client_ip VARCHAR;
