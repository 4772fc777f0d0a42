"""Chinese pages draw real glyphs in Debian's chromium: a CJK font is installed (make install), and the
browser reports which font drew the text, so a page of boxes (no font had the glyphs) fails here."""

import re

from ..browser import BROWSER_MARKS, SHOTS
from ..factories import PASSWORD

pytestmark = BROWSER_MARKS


def fonts_drawing(page, selector: str) -> dict[str, int]:
    """{font family: glyphs drawn} for a node's text, as chromium's layout reports them (DevTools CSS)."""
    session = page.context.new_cdp_session(page)
    session.send("DOM.enable")
    session.send("CSS.enable")
    root = session.send("DOM.getDocument")["root"]["nodeId"]
    node = session.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = session.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return {font["familyName"]: font["glyphCount"] for font in fonts}


def test_the_chinese_dashboard_is_drawn_with_a_cjk_font(transactional_db, live_server, coordinator, page):
    page.goto(f"{live_server.url}/login/?next=/")
    page.fill("#id_username", coordinator.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))
    page.get_by_role("button", name="简体中文").click()
    page.wait_for_selector("html[lang=zh-hans]")
    heading = page.locator("main h1").first.inner_text()
    assert re.search(r"[\u4e00-\u9fff]", heading), heading  # the page is in Chinese
    fonts = fonts_drawing(page, "main h1")
    cjk = {family: glyphs for family, glyphs in fonts.items() if "CJK" in family or "Hei" in family}
    # Every Chinese character of the heading is drawn by a CJK font (a missing font draws boxes instead).
    assert sum(cjk.values()) >= len(re.findall(r"[\u4e00-\u9fff]", heading)), fonts
    page.screenshot(path=str(SHOTS / "dashboard_zh_font.png"), full_page=True)
