import Logging
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request body arrives slower than `minBytesPerSecond` on average
/// once `grace` has passed since its head: a client trickling a body (a byte every few seconds)
/// would otherwise hold its request, and a descriptor, for as long as it likes. Sits in the
/// channel pipeline after HTTP decoding, so it sees every body part as it is read.
final class BodyRateGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let minBytesPerSecond: Int
    let grace: TimeAmount
    let logger: Logger
    private var bodyStarted: NIODeadline?
    private var received = 0
    private var check: Scheduled<Void>?

    init(minBytesPerSecond: Int, grace: TimeAmount, logger: Logger) {
        self.minBytesPerSecond = minBytesPerSecond
        self.grace = grace
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            if minBytesPerSecond > 0 {
                bodyStarted = .now()
                received = 0
                schedule(context, in: grace)
            }
        case .body(let buffer):
            received += buffer.readableBytes
        case .end:
            stop()
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { stop() }

    private func stop() {
        check?.cancel()
        check = nil
        bodyStarted = nil
    }

    private func schedule(_ context: ChannelHandlerContext, in delay: TimeAmount) {
        check?.cancel()
        check = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in inspect(context) }
    }

    /// Checked once a second after the grace period: bytes so far against the rate times the time past it.
    private func inspect(_ context: ChannelHandlerContext) {
        guard let bodyStarted else { return }
        let pastGrace = Double((NIODeadline.now() - bodyStarted - grace).nanoseconds) / 1e9
        if Double(received) < Double(minBytesPerSecond) * pastGrace {
            logger.notice("closing a connection whose request body is too slow", metadata: [
                "bytes": .stringConvertible(received), "seconds": .string(String(format: "%.1f", pastGrace + Double(grace.nanoseconds) / 1e9)),
                "min_bytes_per_second": .stringConvertible(minBytesPerSecond),
            ])
            stop()
            context.close(promise: nil)
        } else {
            schedule(context, in: .seconds(1))
        }
    }
}
