import sys
sys.path.insert(0, "tests")
from test_hostile_input import walk  # noqa
import traceback

def test_probe(walk):
    walk.app.config["PROPAGATE_EXCEPTIONS"] = True
    for who in ("admin",):
        walk.sign_in(who)
        c = walk.clients[who]
        for body in ["current=0001-01-01T00:00:00&new=0001-01-01T00:00:00&again=0001-01-01T00:00:00", "day-day=1&ics-calendar=1"]:
            url = "/auth/password" if "current" in body else "/staff/holidays/import"
            try:
                r = c.post(url, data=body, content_type="application/x-www-form-urlencoded")
                print(r.status_code)
            except Exception:
                traceback.print_exc(limit=-6)
