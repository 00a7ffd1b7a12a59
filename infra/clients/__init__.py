"""Every call to another service: the Cloudflare API, the GitHub API, DNS resolvers.

One policy for deadlines, answer sizes and retries (network_limits), so a misbehaving network ends a
command with a message, never a hang. Operations and components receive clients; nothing below this
package knows about commands, Pulumi or the customers file.
"""
