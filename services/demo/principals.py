"""The demo's printed principals: a client per department and a user per
role, issued like `warnex admin create-client` / `create-user` do. The staff
tokens are the same ones the demo acted with in their places, so what they
see has their own name on it in the audit log."""

from __future__ import annotations

from services.demo.context import Demo
from services.demo.driver import bearer
from services.demo.sizes import PROVINCE
from shared.catalog import DEPARTMENTS


async def issue_principals(demo: Demo) -> None:
    """Fill `demo.clients` and `demo.tokens` (label -> token, in print order)."""
    driver, registry = demo.driver, demo.registry
    county = registry.counties[0][0] + "000000"
    town = registry.towns[0][0]
    village = next(code for code, _ in registry.villages if code.startswith(town[:9]))
    top = county if len(registry.counties) == 1 else PROVINCE[0]
    demo.tokens["county_staff " + county] = await driver.staff_token(
        "county_staff", county, "县级工作人员"
    )
    demo.tokens["township_staff " + town] = await driver.staff_token(
        "township_staff", town, "乡镇工作人员"
    )
    demo.tokens["village_staff " + village] = await driver.staff_token(
        "village_staff", village, "村级工作人员"
    )
    demo.tokens["viewer " + top] = await driver.issue(
        kind="user", name="看板查看", role="viewer", region_code=top
    )
    demo.tokens["admin " + PROVINCE[0]] = await driver.issue(
        kind="user", name="系统管理员", role="admin", region_code=PROVINCE[0]
    )
    for department, label in DEPARTMENTS.items():
        token = await driver.issue(kind="client", name=label, department=department)
        demo.clients[department] = bearer(token)
        demo.tokens["client " + department] = token
