"""Settings (config.py): one REDIS_URL puts everything several app servers share in Redis,
unless a store's own setting names another."""
import pytest

from kithmeet import create_app

REDIS = "redis://127.0.0.1:6399/0"


def config_of(tmp_path, **config):
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'c.sqlite3'}", "SECRET_KEY": "k", **config},
                      instance_path=str(tmp_path / "instance")).config


def test_without_redis_everything_is_in_the_database(tmp_path):
    config = config_of(tmp_path, SQLALCHEMY_DATABASE_URI="postgresql+psycopg://kithmeet@/kithmeet")
    assert (config["SESSION_STORE_URI"], config["RATELIMIT_STORAGE_URI"], config["MAIL_WAKEUP_URI"]) == \
        ("kithmeet+db://", "kithmeet+db://", "")


@pytest.mark.parametrize("setting", [{}, {"RATELIMIT_STORAGE_URI": "kithmeet+file://"}])
def test_on_sqlite_rate_limits_count_in_a_file_in_the_instance_folder(tmp_path, setting):
    # One machine: its workers share the file, and a count never waits for the database's write lock.
    config = config_of(tmp_path, **setting)
    assert config["RATELIMIT_STORAGE_URI"] == f"kithmeet+file://{tmp_path}/instance/ratelimit.counts"
    assert config["SESSION_STORE_URI"] == "kithmeet+db://"


def test_redis_url_from_the_environment_is_used_by_every_shared_store(tmp_path, monkeypatch):
    monkeypatch.setenv("KITHMEET_REDIS_URL", REDIS)
    config = config_of(tmp_path)
    assert (config["SESSION_STORE_URI"], config["RATELIMIT_STORAGE_URI"], config["MAIL_WAKEUP_URI"]) == (REDIS,) * 3


@pytest.mark.parametrize("own", ["SESSION_STORE_URI", "RATELIMIT_STORAGE_URI"])
def test_a_stores_own_setting_wins_over_redis_url(tmp_path, own):
    config = config_of(tmp_path, REDIS_URL=REDIS, **{own: "kithmeet+db://"})
    assert config[own] == "kithmeet+db://"
    assert {key: config[key] for key in ("SESSION_STORE_URI", "RATELIMIT_STORAGE_URI") if key != own} == \
        {key: REDIS for key in ("SESSION_STORE_URI", "RATELIMIT_STORAGE_URI") if key != own}


def test_mail_wake_ups_can_be_turned_off_with_redis_elsewhere(tmp_path):
    assert config_of(tmp_path, REDIS_URL=REDIS, MAIL_WAKEUP_URI="")["MAIL_WAKEUP_URI"] == ""
