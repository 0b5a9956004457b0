"""The app's stylesheet (a module, so it ships with the package)."""

CSS = """
#header { align-items: center; }
#title h1 { margin-bottom: 0.2rem; }
#where p { margin: 0; opacity: 0.75; font-size: 0.9rem; }

.kpi-grid { display: grid; gap: 1rem;
            grid-template-columns: repeat(auto-fit, minmax(210px, 1fr)); }
.kpi-card { border: 1px solid var(--border-color-primary); border-radius: 12px;
            padding: 1rem 1.2rem;
            background: var(--background-fill-secondary); }
.kpi-label { font-size: 0.95rem; text-transform: uppercase; letter-spacing: 0.04em; opacity: 0.7; }
.kpi-value { font-size: 2.3rem; font-weight: 700; line-height: 1.2; margin: 0.3rem 0; }
.kpi-unit { font-size: 0.9rem; opacity: 0.7; }
.kpi-up .kpi-value { color: #15803d; }
.kpi-down .kpi-value { color: #b91c1c; }
.kpi-asof { margin-top: 1rem; font-size: 1rem; opacity: 0.8; }

.msg { border-radius: 8px; padding: 0.75rem 1rem; margin: 0.5rem 0; border: 1px solid; }
.msg code { font-weight: 600; }
.msg-error { background: #fef2f2; border-color: #fca5a5; color: #991b1b; }
.msg-warning { background: #fffbeb; border-color: #fcd34d; color: #92400e; }
.msg-info { background: #eff6ff; border-color: #93c5fd; color: #1e3a8a; }
.msg-ok { background: #f0fdf4; border-color: #86efac; color: #166534; }

.customer-card { border: 1px solid var(--border-color-primary); border-radius: 12px;
                 padding: 1rem 1.2rem; }
.customer-card h3 { margin: 0 0 0.3rem 0; font-size: 1.4rem; }
.customer-card small { opacity: 0.6; font-weight: 400; }
.customer-card .segment { font-size: 0.85rem; padding: 0.15rem 0.6rem; border-radius: 999px;
                          background: var(--color-accent-soft); vertical-align: middle; }
.customer-grid { display: grid; gap: 0.6rem;
                 grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); }
.customer-grid span { display: block; font-size: 0.8rem; opacity: 0.7; text-transform: uppercase; }
.customer-grid b { font-size: 1.3rem; }

/* table headers break between words, never inside one ("Custome/r"), in a slightly
   smaller type so an 11-column table still fits 1280 px */
th .wrap, th span { word-break: normal !important; overflow-wrap: normal !important; }
th { font-size: 0.82em; }

table.compare { width: 100%; border-collapse: collapse; margin-top: 0.5rem; }
table.compare th, table.compare td { border: 1px solid var(--border-color-primary);
  padding: 0.45rem 0.6rem; text-align: left; vertical-align: top; }
table.compare td.good { color: #15803d; font-weight: 600; }
table.compare td.warn { color: #92400e; }
table.compare td.bad, table.compare tr.row-bad th { color: #b91c1c; }
table.compare td.bad ul { margin: 0.3rem 0 0 1rem; padding: 0; font-weight: 400;
                          font-size: 0.85rem; }
"""
