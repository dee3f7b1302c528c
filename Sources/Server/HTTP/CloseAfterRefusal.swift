import NIOCore
import NIOHTTPTypes

/// Ends the connection after a response that says `Connection: close` (a body refused before it
/// was read, like the 413 for an oversized one): the server's side is shut for writing, what the
/// client still sends is read and dropped for a bounded time and size so that the client sees the
/// answer instead of a reset, and then the connection is closed. Without this, a client that sent
/// `Connection: close` itself waited forever: the server had stopped reading its body, so the
/// client stayed blocked writing it and never read the 413.
final class CloseAfterRefusal: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// How long and how much of the rest of a refused body is read and dropped.
    let lingering: TimeAmount
    let maxDrainedBytes: Int
    private var closeAfterEnd = false
    private var draining = false
    private var drained = 0

    init(lingering: TimeAmount = .seconds(5), maxDrainedBytes: Int = 64 << 20) {
        self.lingering = lingering
        self.maxDrainedBytes = maxDrainedBytes
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        switch part {
        case .head(let head):
            closeAfterEnd = head.headerFields[.connection]?.lowercased() == "close"
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            guard closeAfterEnd else { return context.write(data, promise: promise) }
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            context.writeAndFlush(data, promise: written)
            written.futureResult.assumeIsolated().whenComplete { [self] _ in startDraining(context) }
        }
    }

    private func startDraining(_ context: ChannelHandlerContext) {
        guard !draining else { return }
        draining = true
        context.close(mode: .output, promise: nil)
        context.eventLoop.assumeIsolated().scheduleTask(in: lingering) { context.close(promise: nil) }
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard draining else { return context.fireChannelRead(data) }
        if case .body(let buffer) = unwrapInboundIn(data) { drained += buffer.readableBytes }
        if drained > maxDrainedBytes { context.close(promise: nil) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if draining { context.read() } else { context.fireChannelReadComplete() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client finished sending: nothing more to wait for.
        if draining, let event = event as? ChannelEvent, event == .inputClosed { context.close(promise: nil) }
        context.fireUserInboundEventTriggered(event)
    }
}
