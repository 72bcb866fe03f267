//! The TLS listener of self-managed custom domains: each chain served by SNI.

use super::*;

#[tokio::test]
async fn tls_listener_serves_each_self_managed_chain_by_sni() {
    // The client verifies against the wall clock.
    let now = crate::clock::Clock::now(&crate::clock::SystemClock);
    let (leaf_a, ca_a) = generate_chain("login.a.example.com", now, now + time::Duration::days(12));
    let (leaf_b, ca_b) =
        generate_chain("login.b.example.com", now, now + time::Duration::days(300));
    let t = tenant()
        .custom_domain(SimCustomDomain::self_managed(
            "cd_a",
            "login.a.example.com",
            NOW,
            SimServedChain::new(&leaf_a, &[&ca_a]),
        ))
        .custom_domain(SimCustomDomain::self_managed(
            "cd_b",
            "login.b.example.com",
            NOW,
            SimServedChain::new(&leaf_b, &[]),
        ))
        .custom_domain(
            SimCustomDomain::auth0_managed("cd_c", "login.c.example.com", NOW).provisioned(NOW),
        );
    let sim = Sim::spawn(t).await.unwrap();
    let addr = sim
        .tls_addr()
        .expect("a TLS listener for self-managed domains");
    let chain = tls_chain(addr, "login.a.example.com", &ca_a.der)
        .await
        .unwrap();
    assert_eq!(
        chain,
        vec![leaf_a.der.clone(), ca_a.der.clone()],
        "verified against the CA"
    );
    let chain = tls_chain(addr, "LOGIN.B.example.com", &ca_b.der)
        .await
        .unwrap();
    assert_eq!(chain, vec![leaf_b.der.clone()]);
    assert!(
        tls_chain(addr, "login.c.example.com", &ca_a.der)
            .await
            .is_err(),
        "no chain for Auth0-managed"
    );
    assert!(
        tls_chain(addr, "unknown.example.com", &ca_a.der)
            .await
            .is_err()
    );

    // The chain is looked up per handshake: a renewed certificate is served at once.
    let (renewed, renewed_ca) =
        generate_chain("login.a.example.com", now, now + time::Duration::days(90));
    sim.update(|t| {
        t.custom_domain_mut("cd_a").unwrap().served =
            Some(SimServedChain::new(&renewed, &[&renewed_ca]));
    });
    let chain = tls_chain(addr, "login.a.example.com", &renewed_ca.der)
        .await
        .unwrap();
    assert_eq!(chain[0], renewed.der);
    sim.shutdown().await;

    let plain = Sim::spawn(tenant()).await.unwrap();
    assert_eq!(plain.tls_addr(), None);
    plain.shutdown().await;
}
