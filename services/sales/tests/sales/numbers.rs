//! A sale that needs no transaction draws its number in the statement that appends it:
//! numbers stay `<code>-<YYYYMMDD>-<000123>`, one after another, past six digits too.

use tillstream_proto::sales::v1 as pb;
use tillstream_test_support::eventually;

use super::{inventory, line, pay, product, start};

#[tokio::test]
async fn sales_by_product_id_draw_their_numbers_in_order_past_six_digits() {
    let mut stack = start().await;
    let tea = stack
        .catalog
        .create_product(product("TEA", "3.50", &[]))
        .await
        .unwrap()
        .into_inner();
    let location = stack
        .inventory
        .create_location(inventory::CreateLocationRequest {
            code: "N7".into(),
            name: "Numbers".into(),
        })
        .await
        .unwrap()
        .into_inner();
    use pb::sale_line_request::Product;
    let request = |id: &str| pb::CreateSaleRequest {
        id: id.into(),
        location_id: location.id.clone(),
        lines: vec![line(Product::ProductId(tea.id.clone()), "1")],
        payments: vec![pay("cash", "5")],
        ..Default::default()
    };
    let sales = stack.sales.clone();
    let first = eventually("sales knows the product and the location", || {
        let (mut sales, request) = (sales.clone(), request("01JD0000000000000000000N01"));
        async move { sales.create_sale(request).await.ok() }
    })
    .await
    .into_inner();
    let day = &first.sale_number[3..11];
    assert_eq!(first.sale_number, format!("N7-{day}-000001"));
    let again = stack
        .sales
        .create_sale(request("01JD0000000000000000000N01"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, first, "a repeat answers the first sale");

    let db = stack.services.database("sales").await;
    sqlx::query("UPDATE sale_number_counters SET last = 999998")
        .execute(&db)
        .await
        .unwrap();
    let mut numbers = Vec::new();
    for id in ["01JD0000000000000000000N02", "01JD0000000000000000000N03"] {
        let sale = stack
            .sales
            .create_sale(request(id))
            .await
            .unwrap()
            .into_inner();
        let found = stack
            .sales
            .get_sale(pb::GetSaleRequest {
                id_or_number: sale.sale_number.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(found, sale, "the row carries the number the answer gives");
        numbers.push(sale.sale_number);
    }
    let expected = [format!("N7-{day}-999999"), format!("N7-{day}-1000000")];
    assert_eq!(numbers, expected);
    let events: Vec<String> = sqlx::query_scalar(
        "SELECT payload #>> '{sale,sale_number}' FROM events
         WHERE event_type = 'SaleCompleted' ORDER BY position",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(events[1..], expected, "the events carry them too");
}
