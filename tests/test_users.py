import json
import stat
from pathlib import Path

import pytest

from rag_app.errors import InvalidInput
from rag_app.users import Role, UnknownUser, User, UserStore


@pytest.fixture
def store(tmp_path: Path) -> UserStore:
    return UserStore(tmp_path / "home" / "users.json")


def test_added_users_sign_in_with_their_password_only(store: UserStore) -> None:
    store.add("alice", "correct horse", Role.EDITOR)
    store.add("bob", "battery staple", Role.READER)
    assert store.users() == [User("alice", Role.EDITOR), User("bob", Role.READER)]
    assert store.verify("alice", "correct horse") == User("alice", Role.EDITOR)
    assert store.verify("alice", "battery staple") is None
    assert store.verify("carol", "correct horse") is None
    assert store.role("bob") is Role.READER and store.role("carol") is None


def test_the_file_holds_argon2_hashes_readable_by_its_owner_only(store: UserStore) -> None:
    store.add("alice", "correct horse", Role.EDITOR)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    text = store.path.read_text()
    assert "correct horse" not in text
    assert json.loads(text)["users"]["alice"]["hash"].startswith("$argon2id$")
    left = sorted(p.name for p in store.path.parent.iterdir())
    assert left == [".users.json.lock", "users.json"]  # no temp file left


def test_a_duplicate_is_refused_unless_replaced(store: UserStore) -> None:
    store.add("alice", "old password", Role.READER)
    with pytest.raises(InvalidInput, match=r"'alice' already exists .* --replace"):
        store.add("alice", "new password", Role.EDITOR)
    assert store.verify("alice", "old password") == User("alice", Role.READER)
    store.add("alice", "new password", Role.EDITOR, replace=True)
    assert store.verify("alice", "old password") is None
    assert store.verify("alice", "new password") == User("alice", Role.EDITOR)


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [
        ("al ice", "pw", "user name 'al ice': use 1 to 64 letters"),
        ("", "pw", "user name '': use"),
        ("-alice", "pw", "user name '-alice'"),
        ("alice", "", "password: it is empty"),
    ],
)
def test_bad_names_and_empty_passwords_are_refused(
    store: UserStore, name: str, password: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        store.add(name, password, Role.READER)
    assert not store.path.exists()


def test_remove_forgets_the_user_and_names_an_unknown_one(store: UserStore) -> None:
    store.add("alice", "pw", Role.EDITOR)
    store.add("bob", "pw", Role.READER)
    store.remove("alice")
    assert store.users() == [User("bob", Role.READER)]
    assert store.verify("alice", "pw") is None
    with pytest.raises(UnknownUser, match=r"user 'alice': no such user in .*users.json"):
        store.remove("alice")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "file: Invalid JSON"),
        ('{"users": {"alice": {"role": "admin", "hash": "x"}}}', "users.alice.role"),
        ('{"users": {"a b": {"role": "reader", "hash": "x"}}}', "user name 'a b'"),
    ],
)
def test_a_damaged_file_is_an_error_naming_it_and_is_left_alone(
    store: UserStore, content: str, message: str
) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text(content)
    for attempt in (store.users, lambda: store.add("carol", "pw", Role.READER)):
        with pytest.raises(InvalidInput, match=f"{store.path}: {message}"):
            attempt()
    assert store.path.read_text() == content


def _add_many(path: Path, prefix: str) -> None:
    for i in range(3):
        UserStore(path).add(f"{prefix}{i}", "a password", Role.READER)


def test_two_commands_at_once_both_keep_their_users(store: UserStore) -> None:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_add_many, args=(store.path, p)) for p in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    assert sorted(u.name for u in store.users()) == ["a0", "a1", "a2", "b0", "b1", "b2"]
