# The benchmark suite (ci/bench.sh): the same 10 checks per bench host as
# bench/testinfra/test_bench.py and bench/loop.sh.
# The HTTP check is the HTTP status seen from the controller.
@hosts:bench
Feature: Bench hosts serve nginx

  Scenario: The web host is configured and serving
    Then the service "nginx" should be running
    And the service "nginx" should be enabled at boot
    And the package "nginx" should be installed
    And the file "/etc/app.conf" should exist
    And the file "/etc/app.conf" should contain "max_conn = 100"
    And "/mnt/data" should be mounted
    And port 80 should be listening
    And a process named "cron" should be running
    And the output of "uname -s" should contain "Linux"
    When I request "http://{address}/"
    Then the response status should be 200
