from tests.conftest import login


def test_login_page_is_public(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b"Log in" in response.data


def test_home_needs_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_secretary_sees_members(client, coop, make_user, make_member):
    member = make_member(coop)
    _id, email = make_user(coop, "secretary")
    login(client, email)
    response = client.get("/members/")
    assert response.status_code == 200
    assert member.last_name in response.get_data(as_text=True)
