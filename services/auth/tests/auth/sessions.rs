//! Sessions over gRPC: refresh rotation and reuse, logout, disabling, new passwords,
//! lockout, PINs.

use tillstream_proto::auth::v1 as pb;
use tillstream_service::grpc::field_of;
use tonic::Code;

use crate::{as_user, from_addr, login, start};

#[tokio::test]
async fn refresh_tokens_rotate_and_reusing_a_spent_one_revokes_the_family() {
    let mut auth = start().await;
    auth.user("carol", "cashier").await;
    let first = auth.tokens("carol", "till password").await;
    assert!(!first.refresh_token.is_empty());
    let refresh = |token: &str| pb::RefreshRequest {
        refresh_token: token.into(),
    };
    let second = auth
        .client
        .refresh(refresh(&first.refresh_token))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert!(!second.access_token.is_empty());

    // The spent token again: refused, and the live one of its family dies with it.
    let reused = auth
        .client
        .refresh(refresh(&first.refresh_token))
        .await
        .unwrap_err();
    assert_eq!(reused.code(), Code::Unauthenticated);
    let after = auth
        .client
        .refresh(refresh(&second.refresh_token))
        .await
        .unwrap_err();
    assert_eq!(after.code(), Code::Unauthenticated, "the family is revoked");

    // Another session of the same user is untouched; logging it out ends it.
    let other = auth.tokens("carol", "till password").await;
    auth.client
        .logout(as_user(
            pb::LogoutRequest {
                refresh_token: other.refresh_token.clone(),
            },
            &other.access_token,
        ))
        .await
        .unwrap();
    let logged_out = auth
        .client
        .refresh(refresh(&other.refresh_token))
        .await
        .unwrap_err();
    assert_eq!(logged_out.code(), Code::Unauthenticated);
    assert_eq!(
        auth.client
            .refresh(refresh("made-up"))
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );
}

#[tokio::test]
async fn a_disabled_user_cannot_log_in_or_refresh_and_a_new_password_ends_sessions() {
    let mut auth = start().await;
    let carol = auth.user("carol", "cashier").await;
    let session = auth.tokens("carol", "till password").await;
    let admin = auth.admin().await;
    let update = |disabled: Option<bool>, password: Option<&str>| pb::UpdateUserRequest {
        id: carol.id.clone(),
        role: None,
        disabled,
        password: password.map(str::to_owned),
        location_ids: None,
    };
    let disabled = auth
        .client
        .update_user(as_user(update(Some(true), None), &admin))
        .await
        .unwrap()
        .into_inner();
    assert!(disabled.disabled);
    let refused = auth
        .client
        .login(login("carol", "till password"))
        .await
        .unwrap_err();
    assert_eq!(
        (refused.code(), refused.message()),
        (Code::Unauthenticated, "unknown user or wrong password")
    );
    let refresh = auth
        .client
        .refresh(pb::RefreshRequest {
            refresh_token: session.refresh_token,
        })
        .await
        .unwrap_err();
    assert_eq!(refresh.code(), Code::Unauthenticated);

    auth.client
        .update_user(as_user(update(Some(false), None), &admin))
        .await
        .unwrap();
    let session = auth.tokens("carol", "till password").await;
    auth.client
        .update_user(as_user(update(None, Some("a new till password")), &admin))
        .await
        .unwrap();
    assert!(
        auth.client
            .refresh(pb::RefreshRequest {
                refresh_token: session.refresh_token,
            })
            .await
            .is_err(),
        "a new password ends the old sessions"
    );
    auth.tokens("carol", "a new till password").await;

    let promoted = auth
        .client
        .update_user(as_user(
            pb::UpdateUserRequest {
                id: carol.id.clone(),
                role: Some("manager".into()),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(promoted.role, "manager");
    let missing = auth
        .client
        .update_user(as_user(
            pb::UpdateUserRequest {
                id: "01JD0000000000000000000000".into(),
                disabled: Some(true),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

#[tokio::test]
async fn repeated_failures_lock_a_username_and_an_address_and_success_resets() {
    let mut auth = start().await;
    auth.user("carol", "cashier").await;
    // Four failures, a success, four more: never locked, the success reset the count.
    for round in 0..2 {
        for _ in 0..4 {
            let status = auth
                .client
                .login(login("carol", "wrong password"))
                .await
                .unwrap_err();
            assert_eq!(status.code(), Code::Unauthenticated, "round {round}");
        }
        if round == 0 {
            auth.tokens("carol", "till password").await;
        }
    }
    // The fifth failure in a row locks: even the right password is refused for a while.
    auth.client
        .login(login("carol", "wrong password"))
        .await
        .unwrap_err();
    let locked = auth
        .client
        .login(login("carol", "till password"))
        .await
        .unwrap_err();
    assert_eq!(locked.code(), Code::ResourceExhausted);
    let retry_after: u64 = locked
        .metadata()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    // An unknown name locks the same way, so lockout tells nothing about which names exist.
    for _ in 0..5 {
        auth.client
            .login(login("nobody", "wrong password"))
            .await
            .unwrap_err();
    }
    let unknown = auth
        .client
        .login(login("nobody", "wrong password"))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::ResourceExhausted);

    // Twenty failures from one address, spread over names: that address is locked out,
    // another is not.
    for i in 0..20 {
        auth.client
            .login(from_addr(login(&format!("guess{i}"), "x"), "192.0.2.7"))
            .await
            .unwrap_err();
    }
    auth.user("dave", "cashier").await;
    let from_bad = auth
        .client
        .login(from_addr(login("dave", "till password"), "192.0.2.7"))
        .await
        .unwrap_err();
    assert_eq!(from_bad.code(), Code::ResourceExhausted);
    auth.client
        .login(from_addr(login("dave", "till password"), "198.51.100.1"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_manager_sets_a_cashiers_pin_and_the_till_logs_in_with_it() {
    let mut auth = start().await;
    let carol = auth.user("carol", "cashier").await;
    auth.user("morgan", "manager").await;
    let manager = auth.tokens("morgan", "till password").await.access_token;
    let pin = |id: &str, pin: &str| pb::SetPinRequest {
        id: id.into(),
        pin: pin.into(),
    };
    let pin_login = |pin: &str| pb::PinLoginRequest {
        username: "carol".into(),
        pin: pin.into(),
    };
    let before = auth.client.pin_login(pin_login("4821")).await.unwrap_err();
    assert_eq!(before.code(), Code::Unauthenticated, "no PIN set yet");

    let bad = auth
        .client
        .set_pin(as_user(pin(&carol.id, "12a4"), &manager))
        .await
        .unwrap_err();
    assert_eq!(
        (bad.code(), field_of(&bad)),
        (Code::InvalidArgument, Some("pin"))
    );
    let with_pin = auth
        .client
        .set_pin(as_user(pin(&carol.id, "4821"), &manager))
        .await
        .unwrap()
        .into_inner();
    assert!(with_pin.has_pin);
    let tokens = auth
        .client
        .pin_login(pin_login("4821"))
        .await
        .unwrap()
        .into_inner();
    assert!(!tokens.access_token.is_empty() && !tokens.refresh_token.is_empty());
    let wrong = auth.client.pin_login(pin_login("1111")).await.unwrap_err();
    assert_eq!(wrong.code(), Code::Unauthenticated);

    let admin = auth.admin().await;
    let admin_id = auth
        .client
        .list_users(as_user(pb::ListUsersRequest {}, &admin))
        .await
        .unwrap()
        .into_inner()
        .users
        .into_iter()
        .find(|u| u.username == "admin")
        .unwrap()
        .id;
    let above = auth
        .client
        .set_pin(as_user(pin(&admin_id, "4821"), &manager))
        .await
        .unwrap_err();
    assert_eq!(above.code(), Code::PermissionDenied);
    let carol_token = tokens.access_token;
    let as_cashier = auth
        .client
        .set_pin(as_user(pin(&carol.id, "9999"), &carol_token))
        .await
        .unwrap_err();
    assert_eq!(as_cashier.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn a_burst_of_thirty_parallel_guesses_gets_at_most_five_answers_before_the_lockout() {
    let mut auth = start().await;
    auth.user("carol", "cashier").await;
    let guesses = (0..30).map(|_| {
        let mut client = auth.client.clone();
        tokio::spawn(async move {
            client
                .login(login("carol", "wrong password"))
                .await
                .unwrap_err()
                .code()
        })
    });
    let mut answers = Vec::new();
    for guess in guesses {
        answers.push(guess.await.unwrap());
    }
    let wrong = answers
        .iter()
        .filter(|c| **c == Code::Unauthenticated)
        .count();
    let locked = answers
        .iter()
        .filter(|c| **c == Code::ResourceExhausted)
        .count();
    assert!(wrong <= 5, "{wrong} guesses were checked: {answers:?}");
    assert_eq!(wrong + locked, 30, "{answers:?}");
    // The right password waits out the lockout too.
    let refused = auth
        .client
        .login(login("carol", "till password"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
}

#[tokio::test]
async fn a_user_sets_their_own_pin_with_their_current_password() {
    let mut auth = start().await;
    auth.user("maya", "manager").await;
    let token = auth.tokens("maya", "till password").await.access_token;
    let own = |current: &str, pin: &str| {
        as_user(
            pb::SetOwnPinRequest {
                current_password: current.into(),
                pin: pin.into(),
            },
            &token,
        )
    };
    let short = auth.client.set_own_pin(own("till password", "12")).await;
    assert_eq!(short.unwrap_err().code(), Code::InvalidArgument);
    let wrong = auth.client.set_own_pin(own("not it", "4821")).await;
    assert_eq!(wrong.unwrap_err().code(), Code::Unauthenticated);
    let set = auth
        .client
        .set_own_pin(own("till password", "4821"))
        .await
        .unwrap()
        .into_inner();
    assert!(set.has_pin);
    let by_pin = pb::PinLoginRequest {
        username: "maya".into(),
        pin: "4821".into(),
    };
    auth.client.pin_login(by_pin).await.unwrap();
}
