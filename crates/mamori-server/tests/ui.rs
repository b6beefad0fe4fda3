//! The web UI's routes: `/` for browsers and shippers, the embedded assets and
//! their security headers. The UI itself is tested in a real browser by
//! `scripts/ui-tests`.

mod common;

use common::TestServer;

#[test]
fn root_redirects_browsers_and_answers_shippers() {
    let s = TestServer::start();
    let browser = s.call("GET", "/", None, &[], None);
    assert_eq!(browser.status, 303);
    assert_eq!(browser.header("location"), Some("/ui/"));
    let shipper = s.get("/", &s.admin);
    assert_eq!(shipper.status, 200);
    assert_eq!(shipper.json()["tagline"], "You Know, for Search");
    assert_eq!(shipper.header("x-elastic-product"), Some("Elasticsearch"));
    let bad = s.call("GET", "/", Some("mamori_nope_nope"), &[], None);
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["code"], "unauthorized");
}

#[test]
fn assets_are_embedded_with_strict_headers() {
    let s = TestServer::start();
    for (path, kind) in [
        ("/ui/", "text/html"),
        ("/ui/app.js", "text/javascript"),
        ("/ui/app.css", "text/css"),
        ("/ui/icon.svg", "image/svg+xml"),
    ] {
        let a = s.call("GET", path, None, &[], None);
        assert_eq!(a.status, 200, "{path}");
        assert!(a.header("content-type").unwrap().starts_with(kind), "{path}");
        let csp = a.header("content-security-policy").unwrap();
        assert!(
            csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert_eq!(a.header("x-frame-options"), Some("DENY"));
        assert!(!a.text.is_empty());
    }
    assert_eq!(s.call("GET", "/ui", None, &[], None).status, 308);
    // Unknown paths under /ui are API-style errors, not the page.
    let missing = s.call("GET", "/ui/nope.js", None, &[], None);
    assert_eq!(missing.status, 404);
}
