"""`plume addin manifest`: the Word add-in manifest IT deploys.

Microsoft's XSDs (OfficeAppManifestV1_1, TaskPaneAppVersionOverridesV1_0, OfficeAppBasicTypesV1_0) are
not copied into the repo; this test checks, for every element the manifest uses, what those schemas
require: child order, required children and attributes, value formats and lengths, and that every
`resid` names a resource of the right kind.
"""

from __future__ import annotations

import re

import httpx
import pytest
from lxml import etree

from tests.conftest import plume_cli, start_server

ORIGIN = "https://plume.lelocle.ch"
NS = {
    "o": "http://schemas.microsoft.com/office/appforoffice/1.1",
    "bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0",
    "ov": "http://schemas.microsoft.com/office/taskpaneappversionoverrides",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
XSI_TYPE = f"{{{NS['xsi']}}}type"

# Child sequences from the XSDs: (name, min, max) in schema order; None = unbounded.
SEQUENCES = {
    "o:OfficeApp": [("o:Id", 1, 1), ("o:AlternateId", 0, 1), ("o:Version", 1, 1), ("o:ProviderName", 1, 1),
                    ("o:DefaultLocale", 1, 1), ("o:DisplayName", 1, 1), ("o:Description", 1, 1),
                    ("o:IconUrl", 0, 1), ("o:HighResolutionIconUrl", 0, 1), ("o:SupportUrl", 0, 1),
                    ("o:AppDomains", 0, 1), ("o:Hosts", 0, 1), ("o:Requirements", 0, 1),
                    ("o:DefaultSettings", 1, 1), ("o:Permissions", 1, 1), ("o:Dictionary", 0, 1),
                    ("ov:VersionOverrides", 0, 1)],
    "o:DefaultSettings": [("o:SourceLocation", 1, 1)],
    "o:Requirements": [("o:Sets", 0, 1), ("o:Methods", 0, 1)],
    "ov:VersionOverrides": [("ov:Description", 0, 1), ("ov:Requirements", 0, 1), ("ov:Hosts", 0, 1),
                            ("ov:Resources", 0, 1), ("ov:WebApplicationInfo", 0, 1), ("ov:EquivalentAddins", 0, 1)],
    "ov:Requirements": [("bt:Sets", 0, 1), ("bt:Methods", 0, 1)],
    "ov:Hosts": [("ov:Host", 1, None)],
    "ov:Host": [("ov:DesktopFormFactor", 0, 1)],
    "ov:DesktopFormFactor": [("ov:GetStarted", 0, 1), ("ov:FunctionFile", 0, 1), ("ov:ExtensionPoint", 1, None)],
    "ov:GetStarted": [("ov:Title", 1, 1), ("ov:Description", 1, 1), ("ov:LearnMoreUrl", 1, 1)],
    "ov:ExtensionPoint": [("ov:OfficeTab", 0, None), ("ov:CustomTab", 0, None)],
    "ov:OfficeTab": [("ov:Group", 1, None)],
    "ov:Group": [("ov:Label", 1, 1), ("ov:Icon", 1, 1), ("ov:Control", 1, None)],
    "ov:Control": [("ov:Label", 1, 1), ("ov:Supertip", 1, 1), ("ov:Icon", 1, 1), ("ov:Action", 1, 1)],
    "ov:Supertip": [("ov:Title", 1, 1), ("ov:Description", 1, 1)],
    "ov:Icon": [("bt:Image", 1, None)],
    "ov:Action": [("ov:TaskpaneId", 0, 1), ("ov:SourceLocation", 1, 1), ("ov:Title", 0, 1)],
    "ov:Resources": [("bt:Images", 0, 1), ("bt:Urls", 0, 1), ("bt:ShortStrings", 0, 1), ("bt:LongStrings", 0, 1)],
    "bt:Images": [("bt:Image", 1, None)],
    "bt:Urls": [("bt:Url", 1, None)],
    "bt:ShortStrings": [("bt:String", 1, None)],
    "bt:LongStrings": [("bt:String", 1, None)],
}
# Which resource list a `resid` must point into, by the referring element.
RESID_KIND = {"Label": "ShortStrings", "Title": "ShortStrings", "Description": "LongStrings",
              "LearnMoreUrl": "Urls", "SourceLocation": "Urls", "FunctionFile": "Urls", "Image": "Images"}
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
VERSION = re.compile(r"^([0-9]{1,5})(\.[0-9]{1,5}){0,3}$")
CULTURE = re.compile(r"^[a-zA-Z]{2,3}-[a-zA-Z0-9]{3,8}(-[a-zA-Z]{2,3})?$|^[a-zA-Z]{2,3}(-[a-zA-Z]{2,3})?$")


def qname(prefixed: str) -> str:
    prefix, local = prefixed.split(":")
    return f"{{{NS[prefix]}}}{local}"


def prefixed(tag: str) -> str:
    uri, local = tag[1:].split("}")
    return f"{next(p for p, u in NS.items() if u == uri)}:{local}"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> etree._Element:
    out = tmp_path_factory.mktemp("manifest") / "plume-word.xml"
    plume_cli("addin", "manifest", "--url", ORIGIN, "--output", str(out))
    return etree.parse(str(out)).getroot()


def check_sequence(element: etree._Element, problems: list[str]) -> None:
    name = prefixed(element.tag)
    expected = SEQUENCES.get(name)
    children = [c for c in element if isinstance(c.tag, str)]
    if expected is not None:
        position = 0
        for child_name, low, high in expected:
            count = 0
            while position < len(children) and prefixed(children[position].tag) == child_name:
                position, count = position + 1, count + 1
            if count < low or (high is not None and count > high):
                problems.append(f"{name}: {count} × {child_name} (expected {low}..{high or 'n'})")
        if position != len(children):
            problems.append(f"{name}: unexpected or misplaced <{prefixed(children[position].tag)}>")
    for child in children:
        check_sequence(child, problems)


def test_manifest_follows_the_schemas_element_order(manifest):
    assert manifest.tag == qname("o:OfficeApp") and manifest.get(XSI_TYPE) == "TaskPaneApp"
    problems: list[str] = []
    check_sequence(manifest, problems)
    assert problems == []


def test_manifest_values_have_the_schemas_formats(manifest):
    assert UUID.match(manifest.findtext("o:Id", namespaces=NS))
    assert VERSION.match(manifest.findtext("o:Version", namespaces=NS))
    assert manifest.findtext("o:DefaultLocale", namespaces=NS) == "fr-CH"
    assert manifest.findtext("o:Permissions", namespaces=NS) == "ReadWriteDocument"
    assert 1 <= len(manifest.findtext("o:ProviderName", namespaces=NS)) <= 250
    assert 1 <= len(manifest.find("o:DisplayName", NS).get("DefaultValue")) <= 125
    assert 1 <= len(manifest.find("o:Description", NS).get("DefaultValue")) <= 250
    for override in manifest.iter(qname("o:Override"), qname("bt:Override")):
        assert CULTURE.match(override.get("Locale")) and override.get("Value")
    vo = manifest.find("ov:VersionOverrides", NS)
    assert vo.get(XSI_TYPE) == "VersionOverridesV1_0"
    for kind, limit in (("ShortStrings", 125), ("LongStrings", 250)):
        for string in vo.iterfind(f"ov:Resources/bt:{kind}/bt:String", NS):
            values = [string.get("DefaultValue")] + [o.get("Value") for o in string]
            assert all(1 <= len(v) <= limit for v in values), string.get("id")
    ids = [r.get("id") for r in vo.iterfind("ov:Resources/*/*", NS)]
    assert len(ids) == len(set(ids)) and all(1 <= len(i) <= 32 for i in ids)
    for url in manifest.xpath("//@DefaultValue[starts-with(., 'http')]"):
        assert url.startswith(f"{ORIGIN}/addin/word/") and len(url) <= 2048


def test_every_resid_names_a_resource_of_the_right_kind(manifest):
    resources = {}
    for kind in ("Images", "Urls", "ShortStrings", "LongStrings"):
        for item in manifest.iterfind(f"ov:VersionOverrides/ov:Resources/bt:{kind}/*", NS):
            resources[item.get("id")] = kind
    referring = manifest.xpath("//*[@resid]")
    assert len(referring) > 10
    for element in referring:
        local = etree.QName(element).localname
        assert resources.get(element.get("resid")) == RESID_KIND[local], (local, element.get("resid"))
    for image in manifest.iterfind(".//ov:Icon/bt:Image", NS):
        assert image.get("size") in {"16", "20", "24", "32", "40", "48", "64", "80"}


def test_ribbon_button_on_the_home_tab_opens_the_pane_in_french_and_german(manifest):
    strings = {s.get("id"): s for s in manifest.iterfind(".//bt:String", NS)}
    group = manifest.find(".//ov:Host[@xsi:type='Document']//ov:ExtensionPoint[@xsi:type='PrimaryCommandSurface']"
                          "/ov:OfficeTab[@id='TabHome']/ov:Group", NS)
    assert strings[group.find("ov:Label", NS).get("resid")].get("DefaultValue") == "Plume"
    assert sorted(i.get("size") for i in group.iterfind("ov:Icon/bt:Image", NS)) == ["16", "32", "80"]
    button = group.find("ov:Control", NS)
    assert button.get(XSI_TYPE) == "Button"
    action = button.find("ov:Action", NS)
    assert action.get(XSI_TYPE) == "ShowTaskpane"
    pane_url = manifest.find(f".//bt:Url[@id='{action.find('ov:SourceLocation', NS).get('resid')}']", NS)
    assert pane_url.get("DefaultValue") == f"{ORIGIN}/addin/word/taskpane.html"
    label = strings[button.find("ov:Label", NS).get("resid")]
    assert label.get("DefaultValue") == "Ouvrir Plume"
    assert label.find("bt:Override[@Locale='de-CH']", NS).get("Value") == "Plume öffnen"
    for string in strings.values():
        assert string.find("bt:Override[@Locale='de-CH']", NS) is not None, string.get("id")
    for element in ("o:DisplayName", "o:Description"):
        assert manifest.find(f"{element}/o:Override[@Locale='de-CH']", NS) is not None
    sets = manifest.find("o:Requirements/o:Sets/o:Set", NS)
    assert (sets.get("Name"), sets.get("MinVersion")) == ("WordApi", "1.3")
    assert [h.get("Name") for h in manifest.iterfind("o:Hosts/o:Host", NS)] == ["Document"]


def test_manifest_to_stdout_with_a_new_version():
    out = plume_cli("addin", "manifest", "--url", "https://plume.example.ch:8443/", "--version", "1.2.0.0")
    root = etree.fromstring(out.stdout.encode())
    assert root.findtext("o:Version", namespaces=NS) == "1.2.0.0"
    assert root.find("o:DefaultSettings/o:SourceLocation", NS).get("DefaultValue") == \
        "https://plume.example.ch:8443/addin/word/taskpane.html"
    assert "localhost" not in out.stdout


@pytest.mark.parametrize("args", [["--url", "http://plume.lelocle.ch"], ["--url", "https://plume.lelocle.ch/plume"],
                                  ["--url", "https://plume.lelocle.ch", "--version", "un.deux"]])
def test_bad_origin_or_version_is_refused_in_french(args):
    out = plume_cli("addin", "manifest", *args, check=False)
    assert out.returncode != 0 and out.stdout == ""
    assert "https://" in out.stderr or "Version invalide" in out.stderr


def test_server_serves_the_manifest_for_its_public_url_and_every_url_in_it_exists(tmp_path):
    srv = start_server(tmp_path, env={"PLUME_PUBLIC_URL": ORIGIN}, users=False)
    try:
        response = httpx.get(f"{srv.url}/addin/word/manifest.xml")
        assert response.status_code == 200 and "xml" in response.headers["content-type"]
        assert f"connect-src 'self' {ORIGIN}" in response.headers["content-security-policy"]
        root = etree.fromstring(response.content)
        urls = set(root.xpath("//@DefaultValue[starts-with(., 'https://')]"))
        assert len(urls) >= 5
        for url in urls:  # the public origin stands for this test server
            assert httpx.get(url.replace(ORIGIN, srv.url)).status_code == 200, url
    finally:
        srv.stop()


def test_the_order_check_catches_a_misplaced_element(manifest):
    """The schema checks above can fail: move <Version> after <ProviderName> and they do."""
    broken = etree.fromstring(etree.tostring(manifest))
    version = broken.find("o:Version", NS)
    broken.remove(version)
    broken.find("o:ProviderName", NS).addnext(version)
    problems: list[str] = []
    check_sequence(broken, problems)
    assert problems


def test_the_template_in_the_repo_is_well_formed():
    from plume.word_addin import MANIFEST_TEMPLATE, TEMPLATE_ORIGIN

    root = etree.parse(str(MANIFEST_TEMPLATE)).getroot()
    assert root.find("o:DefaultSettings/o:SourceLocation", NS).get("DefaultValue").startswith(TEMPLATE_ORIGIN)
