"""WeChat's published signature and AES vectors, through the code paths the channels use."""
from __future__ import annotations

import pytest
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from connectors.wechat_messages import parse_push
from connectors.wechat_sim import OfficialAccountPusher, WeComPusher, sign

# Official Account URL verification (WeChat's documentation).
SIG_TOKEN, SIG_TIMESTAMP, SIG_NONCE = "AAAAA", "1714036504", "1514711492"
SIG_SIGNATURE = "f464b24fc39322e44b38aa78f5edd27bd1441696"

# The AES sample of WeChat's and WeCom's message crypto libraries (WXBizMsgCrypt).
TOKEN, AES_KEY, RECEIVE_ID = "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7"
VERIFY = dict(signature="5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", timestamp="1409659589", nonce="263014780",
              echostr="P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==")
VERIFY_PLAIN = "1616140317555161061"
PUSH_SIGNATURE, PUSH_TIMESTAMP, PUSH_NONCE = "477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149"
PUSH_BODY = (
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM"
    "/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48k"
    "zJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELN"
    "qbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDY"
    "A5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==]]></Encrypt></xml>"
)


def test_official_account_signature_vector():
    check_signature(SIG_TOKEN, SIG_SIGNATURE, SIG_TIMESTAMP, SIG_NONCE)
    assert sign(SIG_TOKEN, SIG_TIMESTAMP, SIG_NONCE) == SIG_SIGNATURE  # the simulator signs the same way
    with pytest.raises(InvalidSignatureException):
        check_signature(SIG_TOKEN, SIG_SIGNATURE, SIG_TIMESTAMP, "1514711493")
    with pytest.raises(InvalidSignatureException):
        check_signature("AAAAB", SIG_SIGNATURE, SIG_TIMESTAMP, SIG_NONCE)


def test_wecom_url_verification_vector():
    crypto = WeComCrypto(TOKEN, AES_KEY, RECEIVE_ID)
    assert crypto.check_signature(VERIFY["signature"], VERIFY["timestamp"], VERIFY["nonce"], VERIFY["echostr"]) == VERIFY_PLAIN
    with pytest.raises(InvalidSignatureException):
        crypto.check_signature(VERIFY["signature"], "1409659590", VERIFY["nonce"], VERIFY["echostr"])


@pytest.mark.parametrize("crypto_class,wecom", [(WeChatCrypto, False), (WeComCrypto, True)])
def test_sample_push_decrypts_and_parses(crypto_class, wecom):
    crypto = crypto_class(TOKEN, AES_KEY, RECEIVE_ID)
    xml = crypto.decrypt_message(PUSH_BODY, PUSH_SIGNATURE, PUSH_TIMESTAMP, PUSH_NONCE)
    push = parse_push(xml, wecom=wecom)
    assert (push.user, push.msg_type, push.text, push.msg_id, push.create_time) == (
        "mycreate", "text", "hello", "4561255354251345929", 1409659813)
    assert push.agent_id == "218" and push.action == "turn"
    with pytest.raises(InvalidSignatureException):
        crypto.decrypt_message(PUSH_BODY, PUSH_SIGNATURE, PUSH_TIMESTAMP, "1372623148")


def test_wrong_receive_id_is_refused():
    crypto = WeChatCrypto(TOKEN, AES_KEY, "wx0000000000000000")
    with pytest.raises(Exception) as caught:
        crypto.decrypt_message(PUSH_BODY, PUSH_SIGNATURE, PUSH_TIMESTAMP, PUSH_NONCE)
    assert type(caught.value).__name__ == "InvalidAppIdException"


def test_simulator_pushes_round_trip_through_the_sample_key():
    oa = OfficialAccountPusher("http://x", TOKEN, RECEIVE_ID, AES_KEY)
    params, body = oa.request(oa.text_xml("o_user", "办理居住证需要什么材料"))
    assert params["encrypt_type"] == "aes"
    assert params["signature"] == sign(TOKEN, params["timestamp"], params["nonce"])
    plain = WeChatCrypto(TOKEN, AES_KEY, RECEIVE_ID).decrypt_message(body, params["msg_signature"], params["timestamp"], params["nonce"])
    assert parse_push(plain).text == "办理居住证需要什么材料"

    wecom = WeComPusher("http://x", TOKEN, AES_KEY, RECEIVE_ID, "218")
    params, body = wecom.request(wecom.text_xml("zhangsan", "你好"))
    plain = WeComCrypto(TOKEN, AES_KEY, RECEIVE_ID).decrypt_message(body, params["msg_signature"], params["timestamp"], params["nonce"])
    push = parse_push(plain, wecom=True)
    assert (push.user, push.text, push.agent_id) == ("zhangsan", "你好", "218")
    echo = wecom.verify_params("echo-123")
    assert WeComCrypto(TOKEN, AES_KEY, RECEIVE_ID).check_signature(
        echo["msg_signature"], echo["timestamp"], echo["nonce"], echo["echostr"]) == "echo-123"
