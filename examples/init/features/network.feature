# Network steps: TCP connections made from the machine running shakedown to a host (an
# inventory name or an address); the connect time is a measured value (perfdata, metrics).
@hosts:web
Feature: The web servers' ports are open, and only those

  Scenario: The web servers listen on HTTP
    Then TCP port 80 on "{name}" should be open within 500 ms

  Scenario: The database is reachable from here
    Then TCP port 3306 on "db1" should be open

  Scenario: Telnet is closed
    Then TCP port 23 on "{name}" should be closed
