//! Path traversal in every spelling we know is a 404 and reads nothing outside the
//! stream root, even with a valid token: sent byte for byte over a raw socket, since
//! HTTP client libraries normalise `..` away before it could reach the server.

use crate::common;

use common::*;

const SECRET: &str = "TOP SECRET: outside the stream root";

#[tokio::test]
async fn traversal_corpus_is_404_and_nothing_outside_the_root_is_read() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path().join("streams");
    let demo = root.join("demo");
    std::fs::create_dir_all(demo.join("360p")).expect("mkdir");
    std::fs::write(demo.join("index.m3u8"), "#EXTM3U\n360p/index.m3u8\n").expect("write");
    std::fs::write(demo.join("360p/a.ts"), b"inside").expect("write");
    std::fs::write(dir.path().join("secret.ts"), SECRET).expect("write");
    std::fs::write(dir.path().join("secret.m3u8"), SECRET).expect("write");
    std::fs::create_dir_all(root.join("other")).expect("mkdir");
    std::fs::write(root.join("other/seg.ts"), SECRET).expect("write");
    std::fs::write(demo.join(".env"), SECRET).expect("write");
    std::fs::write(demo.join("notes.txt"), SECRET).expect("write");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.path().join("secret.ts"), demo.join("link.ts"))
            .expect("symlink");
        std::os::unix::fs::symlink(dir.path(), demo.join("up")).expect("symlink");
        // A symlink that stays inside the root is fine.
        std::os::unix::fs::symlink(demo.join("360p/a.ts"), demo.join("alias.ts")).expect("symlink");
    }

    let hls = hls(&local_section(&root), "", None).await;
    let token = sign(&claims("demo"));

    let (status, body) = raw_get(hls.addr, "/streams/demo/360p/a.ts", &token).await;
    assert_eq!((status, body.as_str()), (200, "inside"));
    #[cfg(unix)]
    {
        let (status, body) = raw_get(hls.addr, "/streams/demo/alias.ts", &token).await;
        assert_eq!((status, body.as_str()), (200, "inside"));
    }

    let corpus = [
        "/streams/demo/../secret.ts",
        "/streams/demo/../../secret.ts",
        "/streams/demo/360p/../../../secret.ts",
        "/streams/demo/%2e%2e/%2e%2e/secret.ts",
        "/streams/demo/%2E%2E/%2E%2E/secret.ts",
        "/streams/demo/.%2e/.%2e/secret.ts",
        "/streams/demo/%2e%2e%2f%2e%2e%2fsecret.ts",
        "/streams/demo/..%2f..%2fsecret.ts",
        "/streams/demo/%252e%252e/%252e%252e/secret.ts",
        "/streams/demo/%25252e%25252e/secret.ts",
        "/streams/demo/..\\..\\secret.ts",
        "/streams/demo/..%5c..%5csecret.ts",
        "/streams/demo/%5c..%5c..%5csecret.ts",
        "/streams/demo/secret.ts%00.ts",
        "/streams/demo/%00/../../secret.ts",
        "/streams/demo//../../secret.ts",
        "/streams/demo/./../../secret.ts",
        "/streams/demo/link.ts",
        "/streams/demo/up/secret.ts",
        "/streams/demo/up/secret.m3u8",
        "/streams/demo/.env",
        "/streams/demo/notes.txt",
        "/streams/demo/%c0%ae%c0%ae/%c0%ae%c0%ae/secret.ts",
        "/streams/demo/..;/..;/secret.ts",
        "/streams/../streams/other/seg.ts",
        "/streams/demo/../other/seg.ts",
        "/streams/demo/%2e%2e/other/seg.ts",
        "/streams/./demo/../other/seg.ts",
        "/streams//demo/../../secret.ts",
    ];
    for path in corpus {
        let (status, body) = raw_get(hls.addr, path, &token).await;
        assert!(
            !body.contains("TOP SECRET"),
            "{path} leaked a file outside the root: {status} {body}"
        );
        assert_eq!(status, 404, "{path}: {body}");
    }
    hls.stop().await;
}
