"""Services behind the screens: helplines, remittance costs, alerts, reports (see DESIGN.md)."""
