"""UNO components of the Plume extension (registered in META-INF/manifest.xml).

LibreOffice puts the `pythonpath` folder beside this file on sys.path; the code lives in plume_lo.
"""

import unohelper

from plume_lo import contextmenu, dispatch, options
from plume_lo.panels import factory

g_ImplementationHelper = unohelper.ImplementationHelper()
g_ImplementationHelper.addImplementation(dispatch.Dispatcher, dispatch.IMPLEMENTATION,
                                         ("com.sun.star.frame.ProtocolHandler",))
g_ImplementationHelper.addImplementation(factory.PanelFactory, factory.IMPLEMENTATION,
                                         ("com.sun.star.ui.UIElementFactory",))
g_ImplementationHelper.addImplementation(options.OptionsHandler, options.IMPLEMENTATION,
                                         ("com.sun.star.awt.ContainerWindowEventHandler",))
g_ImplementationHelper.addImplementation(contextmenu.ContextMenuJob, contextmenu.IMPLEMENTATION,
                                         ("com.sun.star.task.Job",))
