//! The cluster's certificates and keys, generated fresh for every control
//! plane so that no two test clusters (or a test and a real cluster) ever
//! trust each other.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

/// A certificate and its private key, as PEM files in the cluster's dir.
#[derive(Debug, Clone)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Every file the components are started with.
#[derive(Debug, Clone)]
pub struct Pki {
    /// The CA that signs every serving and client certificate below; the
    /// API server also trusts it for client certificates (`--client-ca-file`).
    pub ca: CertFiles,
    pub apiserver: CertFiles,
    pub controller_manager_serving: CertFiles,
    /// Client certificates: the user is the CN, the groups are the O's.
    pub admin: CertFiles,
    pub controller_manager: CertFiles,
    /// What the API server presents when it proxies to aggregated API
    /// servers; they (and the controller manager's delegated authentication)
    /// trust it through `--requestheader-client-ca-file`.
    pub front_proxy_client: CertFiles,
    /// ServiceAccount token signing key (PKCS#8 PEM) and the public key the
    /// API server verifies tokens with (it does not derive it from a PKCS#8
    /// private key file).
    pub service_account_key: PathBuf,
    pub service_account_public_key: PathBuf,
}

/// The only CN allowed to assert a user through request headers.
pub const FRONT_PROXY_CN: &str = "front-proxy-client";

/// The CA's signing half, kept only while the certificates are issued.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
}

impl Pki {
    /// Writes a new CA, serving certificates for `service_ip` (the first
    /// address of the service range: in-cluster clients reach the API server
    /// there) and loopback, and the client certificates, into `dir`.
    pub fn generate(dir: &Path, service_ip: IpAddr) -> Result<Self> {
        let (ca, ca_files) = Ca::generate(dir)?;
        let loopback = vec![
            SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            SanType::DnsName("localhost".try_into()?),
        ];
        let mut apiserver_names = loopback.clone();
        apiserver_names.push(SanType::IpAddress(service_ip));
        for name in [
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
        ] {
            apiserver_names.push(SanType::DnsName(name.try_into()?));
        }
        let service_account = KeyPair::generate()?;
        let service_account_public_key = dir.join("service-account.pub");
        std::fs::write(
            &service_account_public_key,
            service_account.public_key_pem(),
        )?;
        Ok(Pki {
            apiserver: ca.serving(dir, "apiserver", "kube-apiserver", apiserver_names)?,
            controller_manager_serving: ca.serving(
                dir,
                "controller-manager-serving",
                "kube-controller-manager",
                loopback,
            )?,
            // system:masters is bound to cluster-admin by the bootstrap RBAC
            // policy: this identity is allowed everything.
            admin: ca.client(dir, "admin", "berth-admin", &["system:masters"])?,
            // The bootstrap policy grants this user what the controller
            // manager needs to start its controllers under their own
            // ServiceAccounts (--use-service-account-credentials).
            controller_manager: ca.client(
                dir,
                "controller-manager",
                "system:kube-controller-manager",
                &[],
            )?,
            front_proxy_client: ca.client(dir, "front-proxy-client", FRONT_PROXY_CN, &[])?,
            service_account_key: write_key(dir, "service-account", &service_account)?,
            service_account_public_key,
            ca: ca_files,
        })
    }
}

impl Ca {
    fn generate(dir: &Path) -> Result<(Self, CertFiles)> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, "berth-test-cluster-ca");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key)?;
        let files = write_pair(dir, "ca", &cert.pem(), &key)?;
        Ok((
            Ca {
                issuer: Issuer::new(params, key),
            },
            files,
        ))
    }

    fn serving(&self, dir: &Path, file: &str, cn: &str, names: Vec<SanType>) -> Result<CertFiles> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, cn);
        params.subject_alt_names = names;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(dir, file, params)
    }

    fn client(&self, dir: &Path, file: &str, user: &str, groups: &[&str]) -> Result<CertFiles> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, user);
        for group in groups {
            params
                .distinguished_name
                .push(DnType::OrganizationName, *group);
        }
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(dir, file, params)
    }

    fn issue(&self, dir: &Path, file: &str, params: CertificateParams) -> Result<CertFiles> {
        let key = KeyPair::generate()?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .with_context(|| format!("signing the {file} certificate"))?;
        write_pair(dir, file, &cert.pem(), &key)
    }
}

fn write_pair(dir: &Path, name: &str, cert_pem: &str, key: &KeyPair) -> Result<CertFiles> {
    let cert = dir.join(format!("{name}.crt"));
    std::fs::write(&cert, cert_pem).with_context(|| format!("writing {}", cert.display()))?;
    Ok(CertFiles {
        cert,
        key: write_key(dir, name, key)?,
    })
}

fn write_key(dir: &Path, name: &str, key: &KeyPair) -> Result<PathBuf> {
    let path = dir.join(format!("{name}.key"));
    std::fs::write(&path, key.serialize_pem())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
