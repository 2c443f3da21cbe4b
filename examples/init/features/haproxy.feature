# HAProxy steps: HAProxy's own view of its backends, read over SSH on the load balancer
# through its admin socket (`stats socket /run/haproxy/admin.sock` in haproxy.cfg; set
# vars.haproxy_socket in the inventory if yours is elsewhere).
@hosts:lb
Feature: The load balancer sees every web server

  Scenario: Every server of the app backend is UP
    Then the HAProxy backend "app" should have all servers UP
