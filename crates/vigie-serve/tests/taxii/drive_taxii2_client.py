"""Drives vigie serve's TAXII 2.1 server with taxii2-client 2.3.0 (the OASIS reference
client), every endpoint, and checks what comes back. Run by the Rust test
`serve_taxii` (crates/vigie/tests/it/serve_taxii.rs) against a `vigie serve` child:

    python drive_taxii2_client.py full  BASE_URL STATE_FILE
    python drive_taxii2_client.py again BASE_URL STATE_FILE      (after a restart)
    python drive_taxii2_client.py perms BASE_URL VIEWER ANALYST INGEST

`full` writes STATE_FILE (what a full read returned); `again` checks that a restarted
server serves exactly that. Each check prints one `ok:` line; the first failure raises
(non-zero exit with the traceback), which fails the Rust test.
"""

import json
import sys
import uuid

import requests
from requests.auth import HTTPBasicAuth
from taxii2client.common import TAXIIServiceException
from taxii2client.exceptions import AccessError
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
INCIDENTS_ID = "a9d90135-8013-509c-b9a1-b11f9ab17a4f"
SHARED_ID = "ea8cab59-6eee-5bff-9d12-2190b49f9ef9"


def ok(what):
    print("ok: " + what, flush=True)


def check(cond, what, detail=""):
    if not cond:
        raise AssertionError(what + (": " + str(detail) if detail else ""))
    ok(what)


def sid(ty, n):
    return "%s--%s" % (ty, uuid.uuid5(uuid.NAMESPACE_URL, "vigie-taxii-test:%s:%d" % (ty, n)))


def ts(day, hour=0):
    return "2026-11-%02dT%02d:00:00.000Z" % (day, hour)


def indicator(n, version):
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": sid("indicator", n),
        "created": ts(1),
        "modified": ts(1 + version),
        "name": "test indicator %d v%d" % (n, version),
        "pattern": "[ipv4-addr:value = '203.0.113.%d']" % n,
        "pattern_type": "stix",
        "valid_from": ts(1),
    }


def objects_to_post():
    """20 indicators (ids 0-4 with 3 versions each: 30 versions in all), 3 malware, one
    SCO without created/modified, one 2.0 malware, and 2 invalid objects."""
    objs = []
    for n in range(20):
        for v in range(3 if n < 5 else 1):
            objs.append(indicator(n, v))
    for n in range(3):
        objs.append({"type": "malware", "spec_version": "2.1", "id": sid("malware", n),
                     "created": ts(2), "modified": ts(2), "name": "mw%d" % n,
                     "is_family": False})
    objs.append({"type": "ipv4-addr", "spec_version": "2.1", "id": sid("ipv4-addr", 0),
                 "value": "198.51.100.7"})
    # STIX 2.0 (no spec_version).
    objs.append({"type": "malware", "id": sid("malware", 99), "created": ts(3),
                 "modified": ts(3), "name": "old", "labels": ["trojan"]})
    bad = [{"type": "indicator", "id": "indicator--not-a-uuid", "spec_version": "2.1"},
           {"type": "Bad Type", "id": "x"}]
    return objs, bad


def key(o):
    return (o["id"], o.get("modified") or o.get("created") or "")


def raw(url, method="GET", auth=None, **kw):
    return requests.request(method, url, auth=auth, timeout=30, **kw)


def full(base, state_file):
    root_url = base + "/taxii2/vigie/"
    server = Server(base + "/taxii2/")
    check(server.title == "vigie TAXII 2.1 server", "discovery title", server.title)
    check([r.url for r in server.api_roots] == [root_url], "discovery api_roots",
          [r.url for r in server.api_roots])
    check(server.default is not None and server.default.url == root_url, "discovery default")

    root = ApiRoot(root_url)
    check(TAXII in root.versions, "api root versions", root.versions)
    check(root.max_content_length >= 1024 * 1024, "api root max_content_length")
    cols = {c.alias: c for c in root.collections}
    check(set(cols) == {"incidents", "shared"}, "two collections", list(cols))
    inc, shared = cols["incidents"], cols["shared"]
    check((inc.id, inc.can_read, inc.can_write) == (INCIDENTS_ID, True, False),
          "incidents: read-only")
    check((shared.id, shared.can_read, shared.can_write) == (SHARED_ID, True, True),
          "shared: read-write")
    check(STIX in shared.media_types, "collection media types")
    # One collection by id and by alias.
    by_id = Collection(root_url + "collections/" + SHARED_ID + "/")
    check(by_id.title == shared.title, "get a collection by id")
    # By alias (vigie's addition; taxii2-client insists on URLs by id, so raw).
    r = raw(root_url + "collections/shared/", headers={"Accept": TAXII})
    check(r.status_code == 200 and r.json()["id"] == SHARED_ID, "get a collection by alias")

    # Add objects: 202, a complete status with the failures named.
    objs, bad = objects_to_post()
    status = shared.add_objects({"objects": objs + bad})
    check(status.status == "complete", "add objects: status complete")
    check((status.total_count, status.success_count, status.failure_count,
           status.pending_count) == (len(objs) + 2, len(objs), 2, 0),
          "add objects: counts", (status.total_count, status.success_count,
                                  status.failure_count))
    check(all(f.get("message") for f in status.failures), "failures say why",
          status.failures)
    again = root.get_status(status.id)
    check(again.id == status.id and again.success_count == len(objs), "get status")
    # Posting the same objects again: successes, nothing added twice.
    dup = shared.add_objects({"objects": objs[:3]})
    check(dup.success_count == 3, "re-post is a success")

    versions_all = sorted(key(o) for o in objs)
    latest = {}
    for o in objs:
        latest[o["id"]] = max(latest.get(o["id"], key(o)), key(o))
    # Default: the last version of each object (at their latest spec version).
    env = shared.get_objects()
    got = sorted(key(o) for o in env.get("objects", []))
    check(got == sorted(latest.values()), "get objects: last versions", (len(got), len(latest)))
    check(env.get("more") is False, "one page: more false")
    full_all = shared.get_objects(version="all", spec_version="2.0,2.1")
    check(sorted(key(o) for o in full_all["objects"]) == versions_all,
          "match[version]=all with both spec versions", len(full_all["objects"]))

    # Paging: the pages' union is one full read, nothing twice.
    for per in (1, 4, 7):
        seen = []
        for page in as_pages(shared.get_objects, per_request=per, version="all",
                             spec_version="2.0,2.1"):
            objs_page = page.get("objects", [])
            check(len(objs_page) <= per, "page of %d holds at most %d" % (per, per))
            seen.extend(key(o) for o in objs_page)
        check(sorted(seen) == versions_all and len(set(seen)) == len(seen),
              "objects pages of %d: union = one full read" % per, len(seen))
    man_seen = []
    for page in as_pages(shared.get_manifest, per_request=5, version="all",
                         spec_version="2.0,2.1"):
        man_seen.extend((r["id"], r["version"]) for r in page.get("objects", []))
    check(sorted(i for i, _ in man_seen) == sorted(k[0] for k in versions_all)
          and len(set(man_seen)) == len(man_seen), "manifest pages: union = one full read")

    # Headers of a page.
    r = raw(shared.objects_url + "?limit=3&match[version]=all", headers={"Accept": TAXII})
    body = r.json()
    check(r.headers["Content-Type"] == TAXII, "objects answered as taxii+json")
    check(body["more"] is True and body.get("next"), "limit 3: more and next")
    man = shared.get_manifest(limit=3, version="all")
    first = man["objects"][0]["date_added"]
    last = man["objects"][-1]["date_added"]
    check(r.headers.get("X-TAXII-Date-Added-First") == first, "X-TAXII-Date-Added-First",
          (r.headers.get("X-TAXII-Date-Added-First"), first))
    check(r.headers.get("X-TAXII-Date-Added-Last") == last, "X-TAXII-Date-Added-Last")
    # added_after: the last date added of a page is an exact cursor too.
    after = shared.get_manifest(added_after=last, version="all", spec_version="2.0,2.1")
    check(len(after["objects"]) == len(versions_all) - 3, "added_after",
          len(after["objects"]))

    # Filters.
    ind0 = sid("indicator", 0)
    env = shared.get_objects(type="malware")
    check(sorted(o["id"] for o in env["objects"])
          == sorted([sid("malware", n) for n in range(3)] + [sid("malware", 99)]),
          "match[type]")
    env = shared.get_objects(id=ind0, version="first")
    check([o["modified"] for o in env["objects"]] == [ts(1)], "match[id] + version=first")
    env = shared.get_objects(id=ind0, version=ts(2))
    check([o["modified"] for o in env["objects"]] == [ts(2)], "match[version]=timestamp")
    env = shared.get_objects(spec_version="2.0")
    check([o["id"] for o in env["objects"]] == [sid("malware", 99)], "match[spec_version]=2.0")
    env = shared.get_objects(type="indicator,malware", id=sid("malware", 1))
    check(len(env["objects"]) == 1, "match[type] list + match[id]")
    check(shared.get_objects(type="no-such-type").get("objects", []) == [],
          "no match: an empty envelope")

    # One object, its versions, the manifest.
    env = shared.get_object(ind0)
    check([o["modified"] for o in env["objects"]] == [ts(3)], "get object: last version")
    env = shared.get_object(ind0, version="all")
    check(len(env["objects"]) == 3, "get object: all versions")
    vers = shared.object_versions(ind0)
    check(vers["versions"] == [ts(1), ts(2), ts(3)], "object versions", vers)
    vp = shared.object_versions(ind0, limit=2)
    check(vp["more"] is True and len(vp["versions"]) == 2, "versions paged")
    man = shared.get_manifest(id=ind0, version="all")
    check(all(r["media_type"] == STIX for r in man["objects"]) and len(man["objects"]) == 3,
          "manifest records")

    # Delete: one version, then the whole object.
    shared.delete_object(ind0, version="first")
    check(shared.object_versions(ind0)["versions"] == [ts(2), ts(3)], "delete one version")
    ind1 = sid("indicator", 1)
    shared.delete_object(ind1)
    try:
        shared.get_object(ind1)
        raise AssertionError("a deleted object is still served")
    except requests.HTTPError as e:
        check(e.response.status_code == 404, "deleted object: 404")
        check(e.response.json().get("title"), "404 is a TAXII error")
    r = raw(shared.objects_url + ind1 + "/", "DELETE", headers={"Accept": TAXII})
    check(r.status_code == 404, "delete of nothing: 404")

    # The read-only collection.
    try:
        inc.add_objects({"objects": objs[:1]})
        raise AssertionError("taxii2-client wrote to a read-only collection")
    except AccessError:
        ok("incidents: taxii2-client refuses to write (can_write false)")
    r = raw(inc.objects_url, "POST", data=json.dumps({"objects": objs[:1]}),
            headers={"Accept": TAXII, "Content-Type": TAXII})
    check(r.status_code == 403 and r.json().get("http_status") == "403",
          "incidents: POST is 403", r.status_code)
    inc_env = inc.get_objects()
    inc_objs = inc_env.get("objects", [])
    check(all(o.get("spec_version") == "2.1" and o["id"].startswith(o["type"] + "--")
              for o in inc_objs), "incidents: STIX 2.1 objects")
    check(len(inc_objs) >= 1, "incidents: the ingested intrusion is there", len(inc_objs))
    check(any(o["type"] == "incident" for o in inc_objs), "incidents: an incident object")

    # Media types and errors.
    r = raw(root_url, headers={"Accept": "application/json"})
    check(r.status_code == 406 and r.headers["Content-Type"] == TAXII, "Accept json: 406")
    r = raw(root_url, headers={"Accept": "application/taxii+json;version=2.0"})
    check(r.status_code == 406, "Accept TAXII 2.0: 406")
    r = raw(shared.objects_url, headers={"Accept": STIX})
    check(r.status_code == 200 and r.headers["Content-Type"] == STIX, "objects as stix+json")
    r = raw(shared.objects_url, "POST", data=json.dumps({"objects": []}),
            headers={"Accept": TAXII, "Content-Type": "application/json"})
    check(r.status_code == 415, "Content-Type json: 415")
    r = raw(shared.objects_url, "POST", data="{not json",
            headers={"Accept": TAXII, "Content-Type": TAXII})
    check(r.status_code == 400 and "line 1" in r.json().get("description", ""),
          "bad JSON: 400 with the position")
    r = raw(shared.objects_url, "POST", data=b" " * (root.max_content_length + 1),
            headers={"Accept": TAXII, "Content-Type": TAXII})
    check(r.status_code == 413 and r.json().get("http_status") == "413",
          "body over max_content_length: 413", r.status_code)
    r = raw(shared.objects_url + "?match[version]=latest", headers={"Accept": TAXII})
    check(r.status_code == 400 and "match[version]" in r.json()["description"],
          "bad filter: 400 naming it")
    r = raw(root_url + "collections/nope/objects/", headers={"Accept": TAXII})
    check(r.status_code == 404 and r.json()["title"], "unknown collection: 404")
    r = raw(root_url + "status/" + str(uuid.uuid4()) + "/", headers={"Accept": TAXII})
    check(r.status_code == 404, "unknown status: 404")
    r = raw(base + "/taxii2/other/", headers={"Accept": TAXII})
    check(r.status_code == 404 and r.headers["Content-Type"] == TAXII, "unknown API root: 404")

    state = {
        "shared": sorted(key(o) for o in shared.get_objects(version="all",
                                                            spec_version="2.0,2.1")["objects"]),
        "status": status.id,
        "incidents": sorted(key(o) for o in inc_objs),
    }
    with open(state_file, "w") as f:
        json.dump(state, f)
    ok("state saved: %d shared versions, %d incident objects"
       % (len(state["shared"]), len(state["incidents"])))


def again(base, state_file):
    with open(state_file) as f:
        state = json.load(f)
    root = ApiRoot(base + "/taxii2/vigie/")
    cols = {c.alias: c for c in root.collections}
    shared = cols["shared"]
    got = sorted(tuple(k) for k in map(key, shared.get_objects(version="all",
                                                               spec_version="2.0,2.1")["objects"]))
    check(got == sorted(tuple(k) for k in state["shared"]), "restart: shared unchanged",
          (len(got), len(state["shared"])))
    check(root.get_status(state["status"]).status == "complete", "restart: status kept")
    inc = {key(o) for o in cols["incidents"].get_objects(version="all").get("objects", [])}
    check({tuple(k) for k in state["incidents"]} <= {tuple(k) for k in inc},
          "restart: incident objects kept")
    # A write after the restart gets a later date added than everything before.
    before = shared.get_manifest(version="all", spec_version="2.0,2.1")["objects"]
    shared.add_objects({"objects": [indicator(50, 0)]})
    after = shared.get_manifest(added_after=before[-1]["date_added"], version="all")
    check([r["id"] for r in after["objects"]] == [sid("indicator", 50)],
          "restart: dates added keep increasing")


def perms(base, viewer, analyst, ingest):
    root_url = base + "/taxii2/vigie/"
    try:
        Server(base + "/taxii2/").refresh()
        raise AssertionError("no credentials were accepted")
    except requests.HTTPError as e:
        check(e.response.status_code == 401, "no token: 401")
        check("Basic" in e.response.headers.get("WWW-Authenticate", ""), "401 asks for Basic")
    try:
        ApiRoot(root_url, user="x", password="wrong").refresh()
        raise AssertionError("a wrong token was accepted")
    except requests.HTTPError as e:
        check(e.response.status_code == 401, "wrong token: 401")
    try:
        ApiRoot(root_url, user="collector", password=ingest).refresh()
        raise AssertionError("an ingest token read TAXII")
    except requests.HTTPError as e:
        check(e.response.status_code == 403, "ingest token: 403")

    v = ApiRoot(root_url, user="soc", password=viewer)
    cols = {c.alias: c for c in v.collections}
    check(cols["shared"].can_read and not cols["shared"].can_write, "viewer: shared read-only")
    check(cols["incidents"].can_read and not cols["incidents"].can_write,
          "viewer: incidents read-only")
    cols["shared"].get_objects()
    ok("viewer (Basic): reads shared")
    r = raw(cols["shared"].objects_url, "POST", auth=HTTPBasicAuth("soc", viewer),
            data=json.dumps({"objects": [indicator(60, 0)]}),
            headers={"Accept": TAXII, "Content-Type": TAXII})
    check(r.status_code == 403 and r.json()["http_status"] == "403", "viewer: POST 403")
    r = raw(cols["shared"].objects_url + sid("indicator", 2) + "/", "DELETE",
            auth=HTTPBasicAuth("soc", viewer), headers={"Accept": TAXII})
    check(r.status_code == 403, "viewer: DELETE 403")

    a = ApiRoot(root_url, user="analyst", password=analyst)
    cols = {c.alias: c for c in a.collections}
    check(cols["shared"].can_write and not cols["incidents"].can_write,
          "analyst: shared writable, incidents not")
    st = cols["shared"].add_objects({"objects": [indicator(61, 0)]})
    check(st.success_count == 1, "analyst (Basic): POST to shared")
    r = raw(cols["incidents"].objects_url, "POST", auth=HTTPBasicAuth("analyst", analyst),
            data=json.dumps({"objects": [indicator(62, 0)]}),
            headers={"Accept": TAXII, "Content-Type": TAXII})
    check(r.status_code == 403, "analyst: incidents still read-only")
    r = raw(root_url + "collections/", headers={"Accept": TAXII,
                                               "Authorization": "Bearer " + viewer})
    check(r.status_code == 200 and len(r.json()["collections"]) == 2, "Bearer works too")


def main():
    mode = sys.argv[1]
    if mode == "full":
        full(sys.argv[2], sys.argv[3])
    elif mode == "again":
        again(sys.argv[2], sys.argv[3])
    elif mode == "perms":
        perms(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    else:
        raise SystemExit("unknown mode " + mode)
    print("done: " + mode)


if __name__ == "__main__":
    try:
        main()
    except TAXIIServiceException as e:
        raise SystemExit("taxii2-client: %s" % e)
