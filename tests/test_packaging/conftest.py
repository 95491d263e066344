"""The packaging tests: registers the ``slow`` marker also when this folder
runs alone (tests/test_downstream registers it for the whole suite)."""


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'slow: takes a minute or more (still in the default run)')
