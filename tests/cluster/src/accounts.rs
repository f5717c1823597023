//! Acting as a ServiceAccount: tokens from the TokenRequest API and
//! kubeconfigs that carry them, so a component under test (berthd) is
//! authorised by the RBAC rules granted to its account and by nothing more.
//! Also namespaces, which are only usable once their `default` account is.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{ObjectMeta, PostParams};
use kube::Api;

use crate::control_plane::ControlPlane;
use crate::kubeconfig::{self, Credentials};
use crate::readiness::wait_for;

/// Tokens outlive any test run (the API server's default would be one hour,
/// shorter than a slow CI run of the whole suite).
const TOKEN_SECONDS: i64 = 24 * 3600;
const NAMESPACE_TIMEOUT: Duration = Duration::from_secs(60);

impl ControlPlane {
    /// A bound token for ServiceAccount `namespace/name` (TokenRequest API,
    /// default audience). The account must exist.
    pub async fn token_for_service_account(&self, namespace: &str, name: &str) -> Result<String> {
        let accounts: Api<ServiceAccount> = Api::namespaced(self.client().await?, namespace);
        let request = TokenRequest {
            // No audiences: the API server's own (the issuer), which is
            // what it accepts for API calls.
            spec: Some(TokenRequestSpec {
                expiration_seconds: Some(TOKEN_SECONDS),
                ..Default::default()
            }),
            ..Default::default()
        };
        let answer: TokenRequest = accounts
            .create_subresource("token", name, &PostParams::default(), &request)
            .await
            .with_context(|| format!("requesting a token for {namespace}/{name}"))?;
        answer
            .status
            .and_then(|s| s.token)
            .with_context(|| format!("the token request for {namespace}/{name} has no token"))
    }

    /// Writes a kubeconfig to `path` that authenticates with `token`.
    pub fn kubeconfig_with_token(&self, path: &Path, token: &str) -> Result<()> {
        kubeconfig::write(
            path,
            self.server_url(),
            self.ca_cert(),
            "token-user",
            Credentials::Token(token),
        )
    }

    /// A kubeconfig in the cluster's dir acting as ServiceAccount
    /// `namespace/name`: [`Self::token_for_service_account`] and
    /// [`Self::kubeconfig_with_token`] in one step.
    pub async fn kubeconfig_for_service_account(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<PathBuf> {
        let token = self.token_for_service_account(namespace, name).await?;
        let path = self.dir().join(format!("sa-{namespace}-{name}.kubeconfig"));
        self.kubeconfig_with_token(&path, &token)?;
        Ok(path)
    }

    /// Creates namespace `name` and waits until the serviceaccount controller
    /// has made its `default` account: until then the ServiceAccount
    /// admission plugin refuses every pod there.
    pub async fn create_namespace(&self, name: &str) -> Result<Namespace> {
        let client = self.client().await?;
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                ..Default::default()
            },
            ..Default::default()
        };
        let created = Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &namespace)
            .await
            .with_context(|| format!("creating namespace {name}"))?;
        let accounts: Api<ServiceAccount> = Api::namespaced(client, name);
        wait_for(
            &format!("ServiceAccount {name}/default"),
            NAMESPACE_TIMEOUT,
            &mut [],
            || async { Ok(accounts.get_opt("default").await?.map(|_| ())) },
        )
        .await?;
        Ok(created)
    }
}

impl ControlPlane {
    /// A token for ServiceAccount `namespace/name` bound to pod
    /// `pod_name` (uid `pod_uid`), as the kubelet projects into a pod:
    /// it dies with the pod.
    pub async fn token_for_pod(
        &self,
        namespace: &str,
        name: &str,
        pod_name: &str,
        pod_uid: &str,
    ) -> Result<String> {
        let accounts: Api<ServiceAccount> = Api::namespaced(self.client().await?, namespace);
        let request = TokenRequest {
            spec: Some(TokenRequestSpec {
                expiration_seconds: Some(TOKEN_SECONDS),
                bound_object_ref: Some(
                    k8s_openapi::api::authentication::v1::BoundObjectReference {
                        api_version: Some("v1".into()),
                        kind: Some("Pod".into()),
                        name: Some(pod_name.into()),
                        uid: Some(pod_uid.into()),
                    },
                ),
                ..Default::default()
            }),
            ..Default::default()
        };
        let answer: TokenRequest = accounts
            .create_subresource("token", name, &PostParams::default(), &request)
            .await
            .with_context(|| {
                format!("requesting a token for {namespace}/{name} bound to {pod_name}")
            })?;
        answer
            .status
            .and_then(|s| s.token)
            .with_context(|| format!("the token request for {namespace}/{name} has no token"))
    }
}
