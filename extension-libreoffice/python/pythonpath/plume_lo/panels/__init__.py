"""The Plume sidebar deck's panels (registry/Sidebar.xcu, dialogs/*Panel.xdl).

One module per panel: `text` (TextPanel), `review` (ReviewPanel), `templates` (TemplatesPanel).
Each holds its view (what is shown) and its panel (the controls' events -> actions); base.py has
what they share, listeners.py the UNO event plumbing, factory.py makes them for the deck. A new
panel, say « Rechercher », is a module `search.py` with a class `SearchPanel`, its dialog
`dialogs/SearchPanel.xdl` and its entry in Sidebar.xcu (…/PlumePanelFactory/SearchPanel).
"""
