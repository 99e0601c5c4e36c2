"""Forms of the account pages: the shape of what people type. The rules (codes, lockout,
verification) are the services' (``tongban.accounts``); their errors are put beside the field
they name by :func:`add_account_error`."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tongban.accounts.errors import AccountError

_PHONE_ATTRS = {
    "autocomplete": "tel",
    "inputmode": "numeric",
    "maxlength": "20",
    "placeholder": _("11位手机号码"),
}
_CODE_ATTRS = {
    "autocomplete": "one-time-code",
    "inputmode": "numeric",
    "maxlength": "6",
    "pattern": "[0-9]{6}",
    "placeholder": _("6位数字"),
}


def add_account_error(form: forms.Form, exc: AccountError) -> None:
    """Show a service's error beside its field, or above the form when it names none."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


class PhoneField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("手机号码"))
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("widget", forms.TextInput(attrs=dict(_PHONE_ATTRS)))
        kwargs.setdefault("error_messages", {"required": _("请输入手机号码")})
        super().__init__(**kwargs)


class CodeField(forms.RegexField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("短信验证码"))
        kwargs.setdefault("regex", r"^\d{6}$")
        kwargs.setdefault("widget", forms.TextInput(attrs=dict(_CODE_ATTRS)))
        kwargs.setdefault(
            "error_messages",
            {"required": _("请输入短信验证码"), "invalid": _("验证码为6位数字")},
        )
        super().__init__(**kwargs)


class CodeRequestMixin:
    """A form with a "send code" button: when that button is pressed only the phone number is
    required (the other fields keep what was typed)."""

    def __init__(self, *args, sending_code: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.sending_code = sending_code
        if sending_code:
            for name, field in self.fields.items():
                if name != "phone":
                    field.required = False


class SmsLoginForm(CodeRequestMixin, forms.Form):
    phone = PhoneField()
    code = CodeField()


class PasswordLoginForm(forms.Form):
    login = forms.CharField(
        label=_("手机号或身份证号"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "username", "maxlength": "30"}),
        error_messages={"required": _("请输入手机号或身份证号")},
    )
    password = forms.CharField(
        label=_("密码"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("请输入密码")},
    )


class NewPasswordMixin(forms.Form):
    """Two entries of a new password that must match (the rules are checked by the service)."""

    new_field = "password"

    def clean(self):
        data = super().clean()
        first, second = data.get(self.new_field), data.get(self.new_field + "2")
        if first and first != second:
            self.add_error(self.new_field + "2", _("两次输入的密码不一致"))
        return data


class RegisterForm(CodeRequestMixin, NewPasswordMixin):
    phone = PhoneField()
    code = CodeField()
    password = forms.CharField(
        label=_("设置密码（可选）"),
        required=False,
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "至少8位，包含大写字母、小写字母、数字、符号中的至少三类；不设置也可用短信验证码登录"
        ),
    )
    password2 = forms.CharField(
        label=_("再次输入密码"),
        required=False,
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    agree = forms.BooleanField(
        label=_("我已阅读并同意《用户服务协议》和《个人信息保护政策》"),
        error_messages={"required": _("请阅读并同意用户服务协议和个人信息保护政策")},
    )


class ResetPasswordForm(CodeRequestMixin, NewPasswordMixin):
    phone = PhoneField()
    code = CodeField()
    password = forms.CharField(
        label=_("新密码"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少8位，包含大写字母、小写字母、数字、符号中的至少三类"),
    )
    password2 = forms.CharField(
        label=_("再次输入新密码"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class ChangePasswordForm(NewPasswordMixin):
    new_field = "new_password"

    old_password = forms.CharField(
        label=_("原密码"),
        required=False,
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("新密码"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少8位，包含大写字母、小写字母、数字、符号中的至少三类"),
        error_messages={"required": _("请输入新密码")},
    )
    new_password2 = forms.CharField(
        label=_("再次输入新密码"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("请再次输入新密码")},
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user is not None and not user.has_usable_password():
            del self.fields["old_password"]  # registered by SMS only: set a first password
        elif user is not None:
            self.fields["old_password"].required = True
            self.fields["old_password"].error_messages["required"] = _("请输入原密码")


class RealNameForm(forms.Form):
    real_name = forms.CharField(
        label=_("姓名"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("请输入与身份证一致的姓名")},
    )
    id_number = forms.CharField(
        label=_("身份证号"),
        max_length=30,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "maxlength": "18", "autocapitalize": "characters"}
        ),
        help_text=_("18位居民身份证号码，末位X请大写"),
        error_messages={"required": _("请输入身份证号")},
    )


class FaceForm(forms.Form):
    photo = forms.FileField(
        label=_("本人正面照片"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png", "capture": "user"}),
    )
    consent = forms.BooleanField(
        label=_("我确认由本人操作，并同意将人脸信息用于本次身份核验"),
        error_messages={"required": _("请确认由本人操作并同意进行人脸核验")},
    )

    def __init__(self, *args, needs_photo: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if needs_photo:
            self.fields["photo"].required = True
            self.fields["photo"].error_messages["required"] = _("请拍摄或上传本人正面照片")
        else:
            del self.fields["photo"]
