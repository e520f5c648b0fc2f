//! Nobody let in (issue 9): who may reach a daemon's gRPC service. zebrad
//! runs in a namespace with `[api] group`, a read-only socket with its own
//! group, and a TCP listener with mutual TLS (a CA, server and client
//! certificates made by the test with rcgen). Checked:
//! - both sockets are mode 0660 and owned by their configured groups; a
//!   process of another user is refused by the kernel unless it is in the
//!   socket's group;
//! - the read-only socket serves Status and ShowRoutes and answers Reload
//!   and PushRoutes with PERMISSION_DENIED;
//! - over TCP, a client without a certificate, or with one from another CA,
//!   is refused; one with a certificate from the configured CA is served,
//!   read-only when `tcp_readonly` is set.

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use proto::transport::{connect, connect_tls, Address, ClientTls};
use proto::zebra::zebra_client::ZebraClient;
use proto::zebra::{PushRequest, ReloadRequest, ShowRoutesRequest, StatusRequest};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};
use tonic::Code;
use topotests::netlink::in_namespace;
use topotests::{bin, Lab};

const GROUP: u32 = 4242;
const RO_GROUP: u32 = 4243;
const NOBODY: u32 = 65534;

/// Writes `name.pem` and `name.key` (mode 0600) for a certificate for
/// `names` signed by `ca`.
fn leaf(dir: &Path, name: &str, names: &[&str], ca: &CertifiedIssuer<'_, KeyPair>) {
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    let cert = params.signed_by(&key, ca).unwrap();
    std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
    let kp = dir.join(format!("{name}.key"));
    std::fs::write(&kp, key.serialize_pem()).unwrap();
    std::fs::set_permissions(&kp, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(rcgen::DnType::CommonName, name.to_string());
    CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
}

/// Connects to the Unix socket `path` as user nobody with primary group
/// `gid`: Ok, or the errno's name.
fn connect_as(path: &Path, gid: u32) -> Result<(), String> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n  s.connect(sys.argv[1])\nexcept PermissionError:\n  sys.exit(13)\n",
        ])
        .arg(path)
        .uid(NOBODY)
        .gid(gid)
        .output()
        .expect("python3");
    match out.status.code() {
        Some(0) => Ok(()),
        Some(13) => Err("EACCES".into()),
        _ => panic!(
            "python3 as nobody: {:?} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

#[test]
fn api_refuses_other_users_writes_on_read_only_and_clients_without_certificates() {
    let lab = Lab::new("api_access");
    let r1 = lab.node("r1");
    let pki = r1.dir().join("pki");
    std::fs::create_dir_all(&pki).unwrap();
    let good = ca("routing test CA");
    let rogue = ca("another CA");
    std::fs::write(pki.join("ca.pem"), good.pem()).unwrap();
    leaf(&pki, "server", &["zebrad.example", "127.0.0.1"], &good);
    leaf(&pki, "client", &["operator.example"], &good);
    leaf(&pki, "rogue", &["operator.example"], &rogue);
    let ro_sock = r1.run_dir().join("zebrad-ro.sock");
    let p = |n: &str| pki.join(n).display().to_string();
    let cfg = r1.write_file(
        "zebrad.toml",
        &format!(
            "[api]\ngroup = \"{GROUP}\"\nreadonly_socket = \"{}\"\nreadonly_group = \"{RO_GROUP}\"\n\
             tcp = \"127.0.0.1:2600\"\ntcp_readonly = true\ntls_cert = \"{}\"\ntls_key = \"{}\"\ntls_client_ca = \"{}\"\n",
            ro_sock.display(),
            p("server.pem"),
            p("server.key"),
            p("ca.pem"),
        ),
    );
    let (z, c, run) = (
        bin("zebrad").display().to_string(),
        cfg.display().to_string(),
        r1.run_dir().display().to_string(),
    );
    let zebrad = r1.spawn("zebrad", &[&z, "-f", &c, "--run-dir", &run]);
    let sock = r1.socket("zebrad");
    zebrad.wait_socket(&sock, Duration::from_secs(20));
    zebrad.wait_socket(&ro_sock, Duration::from_secs(5));

    // Modes and groups; the kernel refuses other users outside the group.
    for (s, g) in [(&sock, GROUP), (&ro_sock, RO_GROUP)] {
        let m = std::fs::metadata(s).unwrap();
        assert_eq!(m.mode() & 0o777, 0o660, "{}", s.display());
        assert_eq!(m.gid(), g, "{}", s.display());
        assert_eq!(
            connect_as(s, NOBODY),
            Err("EACCES".into()),
            "{}",
            s.display()
        );
        assert_eq!(connect_as(s, g), Ok(()), "{}", s.display());
    }
    assert_eq!(connect_as(&ro_sock, GROUP), Err("EACCES".into()));

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // The full socket serves everything, the read-only one only reads.
        let mut full = ZebraClient::new(connect(&Address::Unix(sock.clone())).await.unwrap());
        full.reload(ReloadRequest {})
            .await
            .expect("Reload on the main socket");
        let mut ro = ZebraClient::new(connect(&Address::Unix(ro_sock.clone())).await.unwrap());
        ro.status(StatusRequest {}).await.expect("Status read-only");
        ro.show_routes(ShowRoutesRequest::default())
            .await
            .expect("ShowRoutes read-only");
        let e = ro.reload(ReloadRequest {}).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
        let e = ro
            .push_routes(tokio_stream::iter(Vec::<PushRequest>::new()))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    });

    // TCP inside the namespace.
    let ns = r1.ns().to_string();
    let pki2 = pki.clone();
    in_namespace(&ns, move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async move {
            let tls = |name: &str| ClientTls {
                ca: pki2.join("ca.pem"),
                domain: "zebrad.example".into(),
                cert: pki2.join(format!("{name}.pem")),
                key: pki2.join(format!("{name}.key")),
            };
            let status = |ch| async move {
                tokio::time::timeout(
                    Duration::from_secs(5),
                    ZebraClient::new(ch).status(StatusRequest {}),
                )
                .await
                .expect("bounded")
            };
            // A certificate from the configured CA: served, read-only.
            let ch = connect_tls("127.0.0.1:2600", &tls("client")).await.unwrap();
            status(ch.clone())
                .await
                .expect("Status with a good certificate");
            let e = ZebraClient::new(ch)
                .reload(ReloadRequest {})
                .await
                .unwrap_err();
            assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
            // Another CA's certificate: the handshake or the first call fails.
            if let Ok(ch) = connect_tls("127.0.0.1:2600", &tls("rogue")).await {
                let r = status(ch).await;
                assert!(r.is_err(), "a rogue certificate was served: {r:?}");
            }
            // No certificate at all.
            let ca = std::fs::read(pki2.join("ca.pem")).unwrap();
            let anon = Endpoint::from_static("https://127.0.0.1:2600")
                .tls_config(
                    ClientTlsConfig::new()
                        .ca_certificate(Certificate::from_pem(ca))
                        .domain_name("zebrad.example"),
                )
                .unwrap()
                .connect()
                .await;
            if let Ok(ch) = anon {
                let r = status(ch).await;
                assert!(
                    r.is_err(),
                    "a client without a certificate was served: {r:?}"
                );
            }
            // Plain TCP (no TLS) gets nothing either.
            let plain = Endpoint::from_static("http://127.0.0.1:2600")
                .connect_timeout(Duration::from_secs(5))
                .connect()
                .await;
            if let Ok(ch) = plain {
                let r = status(ch).await;
                assert!(r.is_err(), "plain TCP was served: {r:?}");
            }
        });
        Ok(())
    })
    .unwrap();
    assert!(zebrad.is_running(), "{}", zebrad.log());
}
